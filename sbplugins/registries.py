"""Registries of the kinds the engine does not know: SimpleBaseline's own component kinds.

The engine (``sbcore``) holds only pose-agnostic registries (models, datasets, transforms, metrics,
hooks, optimizers, schedulers, loops). A plugin package that brings a new kind creates its registry
here, binds it to an entry-point group of its own, and declares it to the engine under the
``sbcore.registries`` entry-point group (see setup.py), so ``python -m sbcore plugins`` lists it.
"""
from sbcore.registry import Registry

CODECS = Registry('codecs', 'sbpose.codecs')
DETECTORS = Registry('detectors', 'sbpose.detectors')
TRACKERS = Registry('trackers', 'sbpose.trackers')
INFERENCE_BACKENDS = Registry('inference backends', 'sbpose.backends')
