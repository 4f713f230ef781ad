"""Export a pose network to ONNX with MindSpore's exporter, repairing what it cannot export.

MindSpore 2.10's ``mindspore.onnx.export`` (opset 11) exports Conv2d, BatchNorm, ReLU, Add and
'same'/'valid' max-pools, but (measured, the MindSpore notes of the repository's docs):

1. ``nn.MaxPool2d(pad_mode='pad')`` fails (it is ``MaxPool3DWithArgmax`` inside). The backbone
   needs it (PyTorch's symmetric stem pooling). Export swaps each such pool for a 'same' pool of
   the same kernel and stride, then rewrites the ONNX node to explicit symmetric ``pads``: the
   exported node is then exactly the padded pool (ONNX pads never win a max).
2. ``Conv2dTranspose`` exports with a 4-D ``output_shape`` attribute that ONNX Runtime refuses
   (and that fixes the batch size); it is removed, ``pads`` alone give the same shape.
3. ``dynamic_axes`` is ignored: the graph's first input/output dimension is renamed ``N`` so any
   batch size runs.

With ``flip_test`` the graph also runs the mirrored crops and returns the averaged, flipped-back
heatmaps (``sbplugins.utils.geometry.flip.flip_heatmaps``: reverse width, swap left/right channels,
optional one-pixel shift), built from ONNX nodes around the exported network.

Exporting twice in one process gives bogus "out of range" errors in MindSpore 2.10: export once
per process (``tools/export.py`` does).
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import numpy as np

OPSET = 11
INPUT_NAME, OUTPUT_NAME = 'input', 'heatmaps'


def _swap_padded_pools(net) -> List[tuple]:
    """Replace every ``nn.MaxPool2d(pad_mode='pad')`` under ``net`` by a 'same' twin.

    Returns ``(parent, attribute, original, pads)`` per swap so the caller can restore them.
    """
    from mindspore import nn
    swaps = []
    for _, parent in list(net.cells_and_names()):
        for attr, cell in list(parent._cells.items()):  # noqa: SLF001 (MindSpore keeps children here)
            if isinstance(cell, nn.MaxPool2d) and str(cell.pad_mode).upper() == 'PAD':
                pad_h, pad_w = tuple(cell.padding)[-2:]
                twin = nn.MaxPool2d(cell.kernel_size, cell.stride, pad_mode='same')
                setattr(parent, attr, twin)
                swaps.append((parent, attr, cell, (int(pad_h), int(pad_w))))
    return swaps


def _set_attribute(node, name: str, value) -> None:
    import onnx
    kept = [a for a in node.attribute if a.name != name]
    del node.attribute[:]
    node.attribute.extend(kept)
    if value is not None:
        node.attribute.append(onnx.helper.make_attribute(name, value))


def repair_graph(model, pool_pads: Sequence[tuple]) -> Dict[str, int]:
    """Apply repairs 1-3 of the module doc to an exported ``onnx.ModelProto`` in place."""
    pools = [n for n in model.graph.node if n.op_type == 'MaxPool']
    same_pools = [n for n in pools if any(a.name == 'auto_pad' for a in n.attribute)]
    if len(same_pools) != len(pool_pads) or len(pools) != len(pool_pads):
        raise RuntimeError(f'ONNX export: {len(pool_pads)} padded max-pools were swapped but the '
                           f'graph has {len(pools)} MaxPool nodes ({len(same_pools)} "same"); a '
                           f'network with its own "same" pools is not supported')
    for node, (pad_h, pad_w) in zip(same_pools, pool_pads):
        _set_attribute(node, 'auto_pad', None)
        _set_attribute(node, 'pads', [pad_h, pad_w, pad_h, pad_w])
    deconvs = [n for n in model.graph.node if n.op_type == 'ConvTranspose']
    for node in deconvs:
        _set_attribute(node, 'output_shape', None)
    for value in list(model.graph.input) + list(model.graph.output):
        dim = value.type.tensor_type.shape.dim[0]
        dim.ClearField('dim_value')
        dim.dim_param = 'N'
    del model.graph.value_info[:]  # shapes inferred for the fixed batch; ONNX re-infers them
    return dict(max_pools_repaired=len(same_pools), deconv_output_shapes_removed=len(deconvs))


def add_flip_test(model, flip_indices: Sequence[int], shift: bool = True):
    """Wrap the graph ``input -> heatmaps`` into ``input -> flip-test heatmaps``.

    input (N,3,H,W) -> concat(input, mirror) (2N,...) -> network -> split into (plain, mirrored)
    -> mirrored: reverse width, gather ``flip_indices`` channels, shift one pixel right keeping
    column 0 (when ``shift``) -> (plain + mirrored) / 2.
    """
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    graph = model.graph
    for node in graph.node:  # the network now reads 'both' and writes 'raw'
        node.input[:] = ['both' if i == INPUT_NAME else i for i in node.input]
        node.output[:] = ['raw' if o == OUTPUT_NAME else o for o in node.output]
    big = np.iinfo(np.int64).max
    consts = {
        'flip_start': [-1], 'flip_end': [-big], 'axis_w': [3], 'step_back': [-1],
        'zero': [0], 'one': [1], 'minus_one': [-1],
    }
    inits = [numpy_helper.from_array(np.asarray(v, np.int64), name=k) for k, v in consts.items()]
    inits.append(numpy_helper.from_array(np.asarray(flip_indices, np.int64), name='flip_indices'))
    inits.append(numpy_helper.from_array(np.asarray(0.5, np.float32), name='half'))

    def reverse_width(src: str, dst: str):
        return helper.make_node('Slice', [src, 'flip_start', 'flip_end', 'axis_w', 'step_back'],
                                [dst])

    before = [reverse_width(INPUT_NAME, 'mirrored_input'),
              helper.make_node('Concat', [INPUT_NAME, 'mirrored_input'], ['both'], axis=0)]
    after = [helper.make_node('Split', ['raw'], ['plain', 'mirrored_raw'], axis=0),
             reverse_width('mirrored_raw', 'mirrored_w'),
             helper.make_node('Gather', ['mirrored_w', 'flip_indices'], ['mirrored_kw'], axis=1)]
    last = 'mirrored_kw'
    if shift:  # heatmap[..., 1:] = heatmap[..., :-1]; column 0 keeps its value
        after += [helper.make_node('Slice', [last, 'zero', 'one', 'axis_w'], ['first_col']),
                  helper.make_node('Slice', [last, 'zero', 'minus_one', 'axis_w'], ['but_last']),
                  helper.make_node('Concat', ['first_col', 'but_last'], ['shifted'], axis=3)]
        last = 'shifted'
    after += [helper.make_node('Add', ['plain', last], ['summed']),
              helper.make_node('Mul', ['summed', 'half'], [OUTPUT_NAME])]
    nodes = before + list(graph.node) + after
    del graph.node[:]
    graph.node.extend(nodes)
    graph.initializer.extend(inits)
    del graph.value_info[:]
    out = graph.output[0]
    out.type.tensor_type.elem_type = TensorProto.FLOAT
    return model


def export_onnx(model, out_file: str, batch_size: int = 1, flip_test: bool = False,
                example: Optional[np.ndarray] = None) -> Dict[str, object]:
    """Export ``model`` (a ``TopdownPoseEstimator``, eval mode, eager) to ``out_file``.

    Args:
        model: the estimator; its cell maps (N, 3, H, W) normalised crops to (N, K, h, w).
        out_file: the ``.onnx`` path, written atomically.
        batch_size: batch of the traced example (the file accepts any batch size).
        flip_test: put the flip test in the graph (``model.dataset_meta['flip_indices']``,
            ``model.test_cfg['shift_heatmap']``).
        example: the traced input; default: random normalised crops of the codec's size.

    Returns:
        What was exported and repaired (for the tool's report).
    """
    import mindspore
    import onnx
    model.set_train(False)
    if example is None:
        width, height = model.codec.input_size
        pixels = np.random.default_rng(0).integers(0, 256, (batch_size, height, width, 3),
                                                   dtype=np.uint8)
        example = model.preprocess(pixels)
    swaps = _swap_padded_pools(model)
    out = Path(out_file)
    out.parent.mkdir(parents=True, exist_ok=True)
    try:
        with tempfile.TemporaryDirectory(dir=out.parent) as tmp:
            raw = os.path.join(tmp, 'raw.onnx')
            mindspore.onnx.export(model, mindspore.Tensor(example), file_name=raw,
                                  input_names=[INPUT_NAME], output_names=[OUTPUT_NAME])
            onnx_model = onnx.load(raw)
    finally:
        for parent, attr, original, _ in swaps:
            setattr(parent, attr, original)
    report = repair_graph(onnx_model, [pads for *_, pads in swaps])
    if flip_test:
        add_flip_test(onnx_model, model.dataset_meta['flip_indices'],
                      shift=model.test_cfg['shift_heatmap'])
    onnx_model.producer_name = 'sbpose'
    onnx.checker.check_model(onnx_model)
    fd, tmp_file = tempfile.mkstemp(dir=out.parent, prefix=f'.{out.name}.', suffix='.tmp')
    os.close(fd)
    try:
        onnx.save(onnx_model, tmp_file)
        os.replace(tmp_file, out)
    finally:
        if os.path.exists(tmp_file):
            os.unlink(tmp_file)
    report.update(file=str(out), flip_test=bool(flip_test), opset=OPSET,
                  nodes=len(onnx_model.graph.node))
    return report
