"""The registries of the engine: one per kind of component, one entry-point group each."""
from .registry import Registry

MODELS = Registry('models', 'sbcore.models')
CODECS = Registry('codecs', 'sbcore.codecs')
DATASETS = Registry('datasets', 'sbcore.datasets')
TRANSFORMS = Registry('transforms', 'sbcore.transforms')
METRICS = Registry('metrics', 'sbcore.metrics')
HOOKS = Registry('hooks', 'sbcore.hooks')
OPTIMIZERS = Registry('optimizers', 'sbcore.optimizers')
SCHEDULERS = Registry('schedulers', 'sbcore.schedulers')

ALL_REGISTRIES = (MODELS, CODECS, DATASETS, TRANSFORMS, METRICS, HOOKS, OPTIMIZERS, SCHEDULERS)
