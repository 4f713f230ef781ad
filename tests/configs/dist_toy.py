# The toy regression task of tests/toy_components.py for multi-process runs under msrun.
#
# Each msrun worker is a fresh process, so this config imports the toy components itself
# (modules and classes are not config values). It also registers test components:
#   RankStateDumpHook  writes every rank's weights, optimizer state, epoch and iteration to
#                      <work_dir>/state_rank<R>_<point>.npz at before_train (after a resume) and
#                      after_train, so a test can compare ranks with each other and with one process;
#   ToyMSEWithIds      ToyMSE that also counts distinct sample ids;
#   RankCrashHook      kills one rank (os._exit, like a worker that dies, or a signal such as
#                      SIGKILL) at the start of an epoch.
import os as _os
import sys as _sys

_sys.path.insert(0, _os.path.dirname(_os.path.dirname(_os.path.abspath(__file__))))
import toy_components  # noqa: E402,F401  (registers ToyRegressor, ToyDataset, ToyMSE)
from sbcore import dist as _dist  # noqa: E402
from sbcore.hooks import Hook as _Hook  # noqa: E402
from sbcore.registries import HOOKS as _HOOKS  # noqa: E402
from sbcore.registries import METRICS as _METRICS  # noqa: E402


@_METRICS.register(force=True)
class ToyMSEWithIds(toy_components.ToyMSE):
    """ToyMSE plus how many distinct samples were scored (padding must not count twice)."""

    def compute_metrics(self, results):
        return dict(super().compute_metrics(results),
                    **{'toy/unique_ids': len({r[0] for r in results})})


@_HOOKS.register(force=True)
class RankStateDumpHook(_Hook):
    priority = 'LOWEST'

    def _dump(self, runner, point):
        import numpy as np
        from sbcore.run_state import optimizer_state
        _os.makedirs(runner.work_dir, exist_ok=True)  # rank 0 may not have made it yet
        arrays = {f'model/{n}': p.asnumpy() for n, p in runner.model.parameters_and_names()}
        state = optimizer_state(runner.model, runner.optimizer)
        arrays.update({n: p.asnumpy() for n, p in state.items()})
        np.savez(_os.path.join(runner.work_dir, f'state_rank{_dist.get_rank()}_{point}.npz'),
                 epoch=runner.epoch, iter=runner.iter, world_size=_dist.get_world_size(), **arrays)

    def before_train(self, runner):
        self._dump(runner, 'before_train')

    def after_train(self, runner):
        self._dump(runner, 'after_train')


@_HOOKS.register(force=True)
class RankCrashHook(_Hook):
    """Exit code 3 (``os._exit``), or killed by signal ``kill_signal`` (e.g. 9, SIGKILL)."""

    def __init__(self, rank, at_epoch, kill_signal=None):
        self.rank, self.at_epoch, self.kill_signal = rank, at_epoch, kill_signal

    def before_train_epoch(self, runner):
        if _dist.get_rank() == self.rank and runner.epoch == self.at_epoch:
            print(f'RankCrashHook: rank {self.rank} dies at epoch {self.at_epoch}', flush=True)
            if self.kill_signal:
                _os.kill(_os.getpid(), self.kill_signal)
            _os._exit(3)


seed = 3
model = dict(type='ToyRegressor')
train_dataloader = dict(dataset=dict(type='ToyDataset', num_samples=64), batch_size=4,
                        num_workers=1)
# 21 samples: an odd count, so two ranks need one padding row
val_dataloader = dict(dataset=dict(type='ToyDataset', num_samples=21, noise=0.0, seed=1),
                      batch_size=4, num_workers=1)
val_evaluator = dict(type='ToyMSEWithIds')
optim_wrapper = dict(optimizer=dict(type='Adam', lr=0.05))
# lr x (batch_size x world_size / 4): x2 for 2 workers x 4 and for 1 process x 8 alike
auto_scale_lr = dict(enable=True, base_batch_size=4)
param_scheduler = [dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=10)]
train_cfg = dict(max_epochs=1, val_interval=1)
default_hooks = dict(logger=dict(type='LoggerHook', interval=4),
                     checkpoint=dict(type='CheckpointHook', interval=1))
custom_hooks = [dict(type='RankStateDumpHook')]
