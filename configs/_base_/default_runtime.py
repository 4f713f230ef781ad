"""Runtime defaults shared by every recipe: hooks, environment, seed."""
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', interval=10, max_keep_ckpts=3, save_best='coco/AP',
                    rule='greater'),
    sampler_seed=dict(type='DistSamplerSeedHook'),
)
# device: CPU, GPU or Ascend. jit: compile the training step with mindspore.jit (default: on,
# except on CPU, see docs/benchmarks.md); jit_inference: compile the network for evaluation.
env_cfg = dict(device='CPU')
seed = 0
launcher = 'none'
load_from = None
resume = False
