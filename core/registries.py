"""The engine's registries: one per kind of component it builds, one entry-point group each.

A plugin package that brings a kind the engine does not know (codecs, detectors, ...) creates its own
:class:`~sbcore.registry.Registry` and declares it under the ``sbcore.registries`` entry-point
group (``name = package.module:REGISTRY``); :func:`all_registries` then includes it, so listing and
group checks cover it without the engine naming it.
"""
from typing import Tuple

import entrypoints

from .registry import Registry, discover

MODELS = Registry('models', 'sbcore.models')
DATASETS = Registry('datasets', 'sbcore.datasets')
TRANSFORMS = Registry('transforms', 'sbcore.transforms')
METRICS = Registry('metrics', 'sbcore.metrics')
HOOKS = Registry('hooks', 'sbcore.hooks')
OPTIMIZERS = Registry('optimizers', 'sbcore.optimizers')
SCHEDULERS = Registry('schedulers', 'sbcore.schedulers')
LOOPS = Registry('loops', 'sbcore.loops')

ALL_REGISTRIES = (MODELS, DATASETS, TRANSFORMS, METRICS, HOOKS, OPTIMIZERS, SCHEDULERS, LOOPS)

REGISTRIES_GROUP = 'sbcore.registries'
# Top-level config keys an application reads outside the runner (an inference-time detector, say)
# are declared by its distribution under this group (``key = package.module``, never imported), so
# the runner accepts them and still refuses typos.
CONFIG_KEYS_GROUP = 'sbcore.config_keys'
RUNNER_CONFIG_KEYS = frozenset({
    'model', 'work_dir', 'seed', 'load_from', 'resume', 'launcher', 'env_cfg',
    'train_dataloader', 'val_dataloader', 'test_dataloader', 'val_evaluator', 'test_evaluator',
    'optim_wrapper', 'param_scheduler', 'auto_scale_lr', 'train_cfg', 'val_cfg', 'test_cfg',
    'default_hooks', 'custom_hooks', 'visualization',
})


def known_config_keys() -> frozenset:
    """The runner's own top-level keys plus those installed distributions declare."""
    return RUNNER_CONFIG_KEYS | set(discover(CONFIG_KEYS_GROUP))


def all_registries() -> Tuple[Registry, ...]:
    """The engine's registries plus those that installed packages declare under
    ``sbcore.registries``. Importing a declared registry's module must be cheap (no MindSpore)."""
    declared = []
    for ep in entrypoints.get_group_all(REGISTRIES_GROUP):
        try:
            reg = ep.load()
        except Exception as exc:  # one broken package must not hide the others
            raise RuntimeError(f'entry point {ep.name} = {ep.module_name}:{ep.object_name} in '
                               f'group {REGISTRIES_GROUP!r} failed to import: {exc}') from exc
        if not isinstance(reg, Registry):
            raise TypeError(f'entry point {ep.name} in group {REGISTRIES_GROUP!r} must name a '
                            f'sbcore.registry.Registry, got {type(reg).__name__}')
        if all(reg.group != r.group for r in ALL_REGISTRIES + tuple(declared)):
            declared.append(reg)
    return ALL_REGISTRIES + tuple(declared)
