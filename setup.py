"""sbpose: SimpleBaseline human pose estimation on MindSpore.

The application distribution: it installs ``sbplugins`` (SimpleBaseline) and declares its classes
as entry points. The engine is the separate distribution ``sbcore`` in ``core/`` (its own
``core/pyproject.toml``), installed first: ``pip install -e ./core -e .``.
"""
from setuptools import setup

DEPLOY = ['onnx>=1.16', 'onnxruntime>=1.18', 'openvino>=2024.0']

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
    'sbpose.backends': [
        'mindspore = sbplugins.backends.mindspore_backend:MindSporeBackend',
        'onnxruntime = sbplugins.backends.ort_backend:OnnxRuntimeBackend',
        'openvino = sbplugins.backends.openvino_backend:OpenVinoBackend',
    ],
    # Top-level config keys read by the inference API, not the runner (core/runner.py).
    'sbcore.config_keys': [
        'detector = sbplugins.apis',
        'tracker = sbplugins.apis',
    ],
    'sbpose.codecs': [
        'MSRAHeatmap = sbplugins.codecs.msra_heatmap:MSRAHeatmap',
        'UDPHeatmap = sbplugins.codecs.udp_heatmap:UDPHeatmap',
    ],
    'sbpose.detectors': [
        'BoxFileDetector = sbplugins.detectors.box_file:BoxFileDetector',
        'OpenCVPeopleDetector = sbplugins.detectors.opencv_hog:OpenCVPeopleDetector',
        'OnnxDetector = sbplugins.detectors.onnx_detector:OnnxDetector',
    ],
    'sbpose.trackers': [
        'FlowPoseTracker = sbplugins.tracking.pose_tracker:FlowPoseTracker',
        'OKSTracker = sbplugins.tracking.pose_tracker:OKSTracker',
        'IoUTracker = sbplugins.tracking.pose_tracker:IoUTracker',
        'PoseTracker = sbplugins.tracking.pose_tracker:PoseTracker',
    ],
    'sbcore.datasets': [
        'CocoDataset = sbplugins.datasets.coco:CocoDataset',
        'MpiiDataset = sbplugins.datasets.mpii:MpiiDataset',
        'SyntheticCocoDataset = sbplugins.datasets.synthetic:SyntheticCocoDataset',
        'PoseTrack18Dataset = sbplugins.datasets.posetrack18:PoseTrack18Dataset',
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
                                       'transforms', 'metrics', 'estimators', 'utils', 'backends',
                                       'datasets.metainfo', 'detectors', 'tracking',
                                       'utils.geometry')
    ],
    install_requires=[
        'sbcore==0.1.0',  # the engine, from core/ (MindSpore, numpy<2, addict, yapf, entrypoints)
        'opencv-python-headless>=4.5',
        'pycocotools>=2.0.6',
        # CrowdPose / AI Challenger protocols: OKS on box area, crowd-index AP (CocoMetric)
        'xtcocotools>=1.14',
        'matplotlib>=3.5',
        'scipy>=1.7',  # MPII's official head boxes (gt_valid.mat)
        # PoseTrack's per-joint MOTA (tools/eval_tracking.py); 1.4 works with numpy<2 and pandas 2
        'motmetrics>=1.4',
        'pandas>=1.3,<3',
    ],
    extras_require={
        # CPU PyTorch: weight-conversion parity tests and the side-by-side benchmark only.
        'torch': ['torch==2.13.0'],
        # Deployment: ONNX export (tools/export.py --format onnx), the exported-model backends
        # (init_model(backend='onnxruntime'|'openvino'), tools/infer.py --backend) and
        # OnnxDetector (a person detector exported to ONNX).
        'deploy': DEPLOY,
        'onnx': DEPLOY,
        # setuptools>=70.1 builds wheels itself (bdist_wheel): the install tests build sbcore and
        # sbpose offline, without build isolation, and a fresh venv's setuptools 65.5 failed there
        # ('No module named setuptools.command.bdist_wheel' next to wheel 0.48; measured).
        'tests': ['pytest>=7', 'hypothesis>=6', 'torch==2.13.0', 'setuptools>=70.1'] + DEPLOY,
    },
    entry_points=ENTRY_POINTS,
)
