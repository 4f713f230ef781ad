"""Person-detector plugins: the contract, a COCO box file, OpenCV's HOG detector on real COCO
images, and an ONNX detector run by a real ONNX Runtime session on a network the test builds."""
import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from sbcore.errors import ConfigError, DataError
from sbplugins.detectors import build_detector
from sbplugins.registries import DETECTORS
from sbplugins.utils.geometry.boxes import bbox_iou_xywh, nms_boxes


def test_detectors_are_plugins_of_their_own_group():
    assert DETECTORS.group == 'sbpose.detectors'
    assert {'BoxFileDetector', 'OpenCVPeopleDetector', 'OnnxDetector'} <= set(DETECTORS.names())
    with pytest.raises(ConfigError, match='needs a "type"'):
        build_detector(dict(score_thr=0.5))


def test_box_nms_restated():
    boxes = np.array([[0, 0, 10, 10], [1, 1, 10, 10], [20, 0, 10, 10], [0, 0, 10, 10]], np.float32)
    scores = np.array([0.9, 0.95, 0.5, 0.9])
    # IoU([0,0,10,10], [1,1,10,10]) = 81 / 119 = 0.68
    assert bbox_iou_xywh(boxes[:1], boxes[1:2])[0, 0] == pytest.approx(81 / 119)
    assert nms_boxes(boxes, scores, 0.5).tolist() == [1, 2]
    assert nms_boxes(boxes, scores, 0.7).tolist() == [1, 0, 2]  # 0 and 3 coincide: 3 goes


def test_box_file_detector_matches_ids_names_and_frame_order(tmp_path):
    dets = [dict(image_id=785, category_id=1, bbox=[1, 2, 30, 40], score=0.9),
            dict(image_id=785, category_id=2, bbox=[5, 5, 5, 5], score=0.99),  # not a person
            dict(image_id=785, category_id=1, bbox=[50, 2, 30, 40], score=0.2),
            dict(image_id=10000010001, category_id=1, bbox=[7, 8, 9, 10], score=0.8)]
    det_file = tmp_path / 'dets.json'
    det_file.write_text(json.dumps(dets))
    ann = dict(images=[dict(id=10000010001, file_name='images/val/000001_x/000001.jpg', frame_id=1),
                       dict(id=10000010000, file_name='images/val/000001_x/000000.jpg', frame_id=0)])
    ann_file = tmp_path / 'ann.json'
    ann_file.write_text(json.dumps(ann))
    image = np.zeros((60, 90, 3), np.uint8)
    det = build_detector(dict(type='BoxFileDetector', det_file=str(det_file), score_thr=0.3))
    boxes, scores = det.detect(image, dict(file_name='000000000785.jpg'))  # COCO name -> 785
    np.testing.assert_allclose(boxes, [[1, 2, 30, 40]])
    np.testing.assert_allclose(scores, [0.9])
    assert det.detect(image, dict(image_id=785))[0].shape == (1, 4)
    det = build_detector(dict(type='BoxFileDetector', det_file=str(det_file), ann_file=str(ann_file)))
    assert det.detect(image, dict(file_name='000001.jpg'))[0].tolist() == [[7, 8, 9, 10]]
    assert det.detect(image, dict(frame_index=1))[0].tolist() == [[7, 8, 9, 10]]  # frame order
    boxes, scores = det.detect(image, dict(frame_index=0))  # a frame with no box: nobody
    assert boxes.shape == (0, 4) and boxes.dtype == np.float32 and scores.shape == (0,)
    bad = tmp_path / 'bad.json'
    bad.write_text(json.dumps([dict(image_id=1, bbox=[0, 0, 1, 1])]))
    with pytest.raises(DataError, match=r"bad.json: entry 0 lacks \['score', 'category_id'\]"):
        build_detector(dict(type='BoxFileDetector', det_file=str(bad)))


def test_opencv_people_detector_finds_the_skier_and_nobody_in_a_blank_image(coco_sample):
    det = build_detector(dict(type='OpenCVPeopleDetector', win_stride=(4, 4)))
    image = cv2.imread(str(coco_sample['img_dir'] / '000000000785.jpg'))
    boxes, scores = det.detect(image)
    assert boxes.dtype == np.float32 and boxes.shape[1] == 4 and scores.shape == (len(boxes),)
    assert len(boxes) >= 1 and ((scores > 0) & (scores < 1)).all()
    coco = json.loads(Path(coco_sample['ann_file']).read_text())
    skier = [a['bbox'] for a in coco['annotations'] if a['image_id'] == 785]
    (x, y, w, h), (gx, gy, gw, gh) = boxes[0], skier[0]
    inter = max(0, min(x + w, gx + gw) - max(x, gx)) * max(0, min(y + h, gy + gh) - max(y, gy))
    assert inter / (w * h) > 0.7  # the best box lies on the skier (HOG frames the upper body)
    boxes, scores = det.detect(np.full((256, 320, 3), 128, np.uint8))
    assert boxes.shape == (0, 4) and scores.shape == (0,)
    boxes, _ = det.detect(np.zeros((40, 30, 3), np.uint8))  # smaller than the 64x128 window
    assert boxes.shape == (0, 4)


def _onnx_detector_file(path: Path, kind: str, raw: np.ndarray, labels=None) -> None:
    """A real ONNX network: a 3x3 convolution with random weights over the input, reduced to a
    scalar and multiplied by 0, added to ``raw`` (the detector head's output the test decodes).
    So ONNX Runtime runs a real graph on the real input tensor, and the output is known."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    rng = np.random.default_rng(0)
    inits = [numpy_helper.from_array(rng.normal(size=(4, 3, 3, 3)).astype(np.float32), 'w'),
             numpy_helper.from_array(np.zeros(1, np.float32), 'zero'),
             numpy_helper.from_array(raw.astype(np.float32), 'raw')]
    nodes = [helper.make_node('Conv', ['images', 'w'], ['feat'], pads=[1, 1, 1, 1]),
             helper.make_node('ReduceMean', ['feat'], ['mean'], keepdims=0),
             helper.make_node('Mul', ['mean', 'zero'], ['nothing']),
             helper.make_node('Add', ['raw', 'nothing'], ['dets'])]
    outputs = [helper.make_tensor_value_info('dets', TensorProto.FLOAT, list(raw.shape))]
    if labels is not None:
        inits.append(numpy_helper.from_array(np.asarray(labels, np.int64), 'labels_const'))
        nodes.append(helper.make_node('Identity', ['labels_const'], ['labels']))
        outputs.append(helper.make_tensor_value_info('labels', TensorProto.INT64, list(np.shape(labels))))
    graph = helper.make_graph(nodes, f'{kind}_toy', [helper.make_tensor_value_info(
        'images', TensorProto.FLOAT, [1, 3, 64, 64])], outputs, inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid('', 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))


@pytest.mark.parametrize('kind', ['yolox', 'yolov8', 'xyxy_score_label'])
def test_onnx_detector_decodes_letterboxes_thresholds_and_nms(kind, tmp_path):
    pytest.importorskip('onnxruntime')
    # Four candidates in the 64x64 input (cx, cy, w, h): a person, its duplicate (IoU 0.70,
    # lower score), a weak person (score below threshold), a non-person (class 1).
    cands = np.array([[20, 24, 10, 12], [21, 25, 10, 12], [50, 20, 8, 8], [40, 40, 10, 10]], np.float32)
    person = np.array([0.9, 0.8, 0.1, 0.05])
    other = np.array([0.0, 0.0, 0.0, 0.95])
    labels = None
    if kind == 'yolox':  # (1, N, 5 + C): objectness 1, class scores
        raw = np.concatenate([cands, np.ones((4, 1)), person[:, None], other[:, None]], 1)[None]
    elif kind == 'yolov8':  # (1, 4 + C, N)
        raw = np.concatenate([cands, person[:, None], other[:, None]], 1).T[None]
    else:  # (1, N, 5) x1 y1 x2 y2 score + labels
        xyxy = np.concatenate([cands[:, :2] - cands[:, 2:] / 2, cands[:, :2] + cands[:, 2:] / 2], 1)
        raw = np.concatenate([xyxy, np.maximum(person, other)[:, None]], 1)[None]
        labels = [[0, 0, 0, 1]]
    path = tmp_path / f'{kind}.onnx'
    _onnx_detector_file(path, kind, raw, labels)
    pad_center = kind == 'yolov8'
    det = build_detector(dict(type='OnnxDetector', model_file=str(path), output_format=kind,
                              input_size=(64, 64), score_thr=0.3, nms_thr=0.5,
                              pad_center=pad_center))
    image = np.random.default_rng(1).integers(0, 255, (100, 200, 3), dtype=np.uint8)  # 2:1
    boxes, scores = det.detect(image)
    # Letterbox of 200x100 into 64x64: zoom 0.32, 64x32 content, offset 16 px in y when centred.
    zoom, off_y = 64 / 200, (16 if pad_center else 0)
    expected = np.array([(20 - 5) / zoom, (24 - 6 - off_y) / zoom, 10 / zoom, 12 / zoom])
    assert boxes.shape == (1, 4)
    np.testing.assert_allclose(boxes[0], expected, atol=1e-3)
    np.testing.assert_allclose(scores, [0.9], atol=1e-6)
    tensor, _, _ = det.preprocess(image)
    assert tensor.shape == (1, 3, 64, 64) and tensor.dtype == np.float32
    assert (tensor[0, :, 60:] == 114).all()  # padding below the content in both layouts
    assert (tensor[0, :, :4] == 114).all() == pad_center  # and above it only when centred


def test_onnx_detector_rejects_an_unknown_format(tmp_path):
    with pytest.raises(ConfigError, match="output_format must be one of"):
        build_detector(dict(type='OnnxDetector', model_file=str(tmp_path / 'x.onnx'),
                            output_format='ssd'))


def test_onnx_detector_runs_an_exported_yolox_style_network(tmp_path):
    """A YOLOX-style network (stride-8 grid, decoding inside, random weights) built in PyTorch and
    exported to ONNX; the detector's boxes equal a restatement on PyTorch's own outputs."""
    pytest.importorskip('onnxruntime')
    torch = pytest.importorskip('torch')

    class TinyYolox(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.body = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3, 2, 1), torch.nn.ReLU(),
                                            torch.nn.Conv2d(8, 8, 3, 2, 1), torch.nn.ReLU(),
                                            torch.nn.Conv2d(8, 8, 3, 2, 1), torch.nn.ReLU())
            self.head = torch.nn.Conv2d(8, 5 + 2, 1)  # box, objectness, 2 classes
            ys, xs = torch.meshgrid(torch.arange(8.0), torch.arange(8.0), indexing='ij')
            self.register_buffer('grid', torch.stack([xs, ys], -1).reshape(1, 64, 2))

        def forward(self, x):
            out = self.head(self.body(x / 255.0)).flatten(2).transpose(1, 2)  # (1, 64, 7)
            xy = (self.grid + torch.sigmoid(out[..., :2])) * 8
            wh = torch.exp(out[..., 2:4].clamp(-2, 2)) * 16
            return torch.cat([xy, wh, torch.sigmoid(out[..., 4:])], -1)

    torch.manual_seed(0)
    net = TinyYolox().eval()
    path = tmp_path / 'tiny_yolox.onnx'
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')  # the TorchScript exporter's deprecation notice
        torch.onnx.export(net, torch.zeros(1, 3, 64, 64), str(path), input_names=['images'],
                          output_names=['output'], opset_version=13, dynamo=False)
    det = build_detector(dict(type='OnnxDetector', model_file=str(path), output_format='yolox',
                              input_size=(64, 64), score_thr=0.2, nms_thr=0.45))
    image = np.random.default_rng(2).integers(0, 255, (120, 160, 3), dtype=np.uint8)
    boxes, scores = det.detect(image)

    # Restatement: letterbox top-left (zoom 0.4 -> 64x48, grey 114 below), PyTorch forward,
    # score = objectness x person, xyxy / zoom clipped to the image, threshold, greedy NMS; boxes
    # left with no area (wholly in the padding) are not persons.
    canvas = np.full((64, 64, 3), 114, np.uint8)
    canvas[:48] = cv2.resize(image, (64, 48), interpolation=cv2.INTER_LINEAR)
    with torch.no_grad():
        raw = net(torch.from_numpy(canvas.transpose(2, 0, 1)[None].astype(np.float32)))[0].numpy()
    score = raw[:, 4] * raw[:, 5]
    xyxy = np.concatenate([raw[:, :2] - raw[:, 2:4] / 2, raw[:, :2] + raw[:, 2:4] / 2], 1) / 0.4
    xyxy = np.clip(xyxy, 0, [160, 120, 160, 120])
    keep = (score >= 0.2) & (xyxy[:, 2] > xyxy[:, 0]) & (xyxy[:, 3] > xyxy[:, 1])
    xyxy, score = xyxy[keep], score[keep]
    order, kept = np.argsort(-score, kind='stable'), []
    for i in order:
        ious = [bbox_iou_xywh(np.r_[xyxy[i, :2], xyxy[i, 2:] - xyxy[i, :2]][None],
                              np.r_[xyxy[j, :2], xyxy[j, 2:] - xyxy[j, :2]][None])[0, 0] for j in kept]
        if all(v <= 0.45 for v in ious):
            kept.append(i)
    expected = np.array([np.r_[xyxy[i, :2], xyxy[i, 2:] - xyxy[i, :2]] for i in kept]).reshape(-1, 4)
    assert len(expected) > 1  # random weights still give several boxes to compare
    np.testing.assert_allclose(boxes, expected, atol=2e-3)
    np.testing.assert_allclose(scores, score[kept], atol=1e-5)
