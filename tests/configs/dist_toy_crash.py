# dist_toy.py trained for 3 epochs with rank 1 dying at the start of epoch 2 (0-based epoch 1),
# after epoch 1's checkpoint was written.
_base_ = 'dist_toy.py'
train_cfg = dict(max_epochs=3, val_interval=1)
custom_hooks = [dict(type='RankStateDumpHook'), dict(type='RankCrashHook', rank=1, at_epoch=1)]
