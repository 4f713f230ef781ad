"""sbpose: SimpleBaseline human pose estimation on MindSpore.

The application distribution: it installs ``sbplugins`` (SimpleBaseline) and declares its classes
as entry points. The engine is the separate distribution ``sbcore`` in ``core/`` (its own
``core/pyproject.toml``), installed first: ``pip install -e ./core -e .``.
"""
from setuptools import setup

# One entry point per class, one group per registry (core/registries.py); the engine's own
# hooks, loops, optimizers and schedulers are declared by core/pyproject.toml.
ENTRY_POINTS = {
    'sbcore.models': [
        'ResNet = sbplugins.backbones.resnet:ResNet',
        'DeconvHead = sbplugins.heads.deconv_head:DeconvHead',
        'KeypointMSELoss = sbplugins.losses.mse_loss:KeypointMSELoss',
        'TopdownPoseEstimator = sbplugins.estimators.topdown:TopdownPoseEstimator',
    ],
    # Kinds the engine does not know, declared to it (core/registries.py: all_registries).
    'sbcore.registries': [
        'codecs = sbplugins.registries:CODECS',
        'detectors = sbplugins.registries:DETECTORS',
        'trackers = sbplugins.registries:TRACKERS',
        'inference_backends = sbplugins.registries:INFERENCE_BACKENDS',
    ],
    'sbpose.codecs': [
        'MSRAHeatmap = sbplugins.codecs.msra_heatmap:MSRAHeatmap',
    ],
    'sbcore.datasets': [
        'CocoDataset = sbplugins.datasets.coco:CocoDataset',
        'MpiiDataset = sbplugins.datasets.mpii:MpiiDataset',
        'SyntheticCocoDataset = sbplugins.datasets.synthetic:SyntheticCocoDataset',
    ],
    'sbcore.transforms': [
        'LoadImage = sbplugins.transforms.loading:LoadImage',
        'GetBBoxCenterScale = sbplugins.transforms.common:GetBBoxCenterScale',
        'RandomFlip = sbplugins.transforms.common:RandomFlip',
        'RandomHalfBody = sbplugins.transforms.common:RandomHalfBody',
        'RandomBBoxTransform = sbplugins.transforms.common:RandomBBoxTransform',
        'TopdownAffine = sbplugins.transforms.topdown_affine:TopdownAffine',
        'GenerateTarget = sbplugins.transforms.common:GenerateTarget',
        'PackPoseInputs = sbplugins.transforms.formatting:PackPoseInputs',
    ],
    'sbcore.metrics': [
        'CocoMetric = sbplugins.metrics.coco_metric:CocoMetric',
        'PCKhMetric = sbplugins.metrics.pckh_metric:PCKhMetric',
    ],
}

setup(
    name='sbpose',
    version='0.1.0',
    description='SimpleBaseline human pose estimation on MindSpore: a small MMPose-like toolbox',
    python_requires='>=3.9',
    # Dataset-info files are package data, named by dataset in configs (from_file='coco').
    package_data={'sbplugins.datasets.metainfo': ['*.py']},
    packages=['sbplugins'] + [
        f'sbplugins.{sub}' for sub in ('backbones', 'heads', 'codecs', 'losses', 'datasets',
                                       'transforms', 'metrics', 'estimators', 'utils',
                                       'datasets.metainfo')
    ],
    install_requires=[
        'sbcore==0.1.0',  # the engine, from core/ (MindSpore, numpy<2, addict, yapf, entrypoints)
        'opencv-python-headless>=4.5',
        'pycocotools>=2.0.6',
        'matplotlib>=3.5',
        'scipy>=1.7',  # MPII's official head boxes (gt_valid.mat)
    ],
    extras_require={
        # CPU PyTorch: weight-conversion parity tests and the side-by-side benchmark only.
        'torch': ['torch==2.13.0'],
        'tests': ['pytest>=7', 'hypothesis>=6', 'torch==2.13.0'],
    },
    entry_points=ENTRY_POINTS,
)
