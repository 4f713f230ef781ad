"""Checkpoint files: atomic saves, corrupt and truncated files, the latest good checkpoint,
the pointer file, scalar shapes and state-dict comparison."""
import os

import numpy as np
import pytest

import sbcore  # noqa: F401  (sets the oneDNN ISA before mindspore loads)
import mindspore as ms
from sbcore import checkpoint as ckpt_io
from sbcore.checkpoint import CheckpointError


def sample_arrays(scale=1.0):
    return {'fc.weight': np.arange(12, dtype=np.float32).reshape(3, 4) * scale,
            'fc.bias': np.full(3, scale, np.float32),
            'step': np.array(7, np.int32)}


def record_ends(data: bytes):
    """End offsets of the top-level protobuf records (field 1, length-delimited) of a .ckpt."""
    def varint(i):
        value = shift = 0
        while True:
            byte = data[i]
            i += 1
            value |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                return value, i
    ends, i = [], 0
    while i < len(data):
        _, i = varint(i)
        length, i = varint(i)
        i += length
        ends.append(i)
    assert ends[-1] == len(data)
    return ends


def test_round_trip_keeps_arrays_and_meta(tmp_path):
    path = ckpt_io.save_checkpoint(tmp_path / 'epoch_1.ckpt', sample_arrays(),
                                   dict(epoch=1, best=None))
    arrays, meta = ckpt_io.load_checkpoint(path)
    assert meta == dict(epoch=1, best=None, num_arrays=3)
    assert sorted(arrays) == ['fc.bias', 'fc.weight', 'step']
    np.testing.assert_array_equal(arrays['fc.weight'], sample_arrays()['fc.weight'])
    assert os.listdir(tmp_path) == ['epoch_1.ckpt']  # the temporary folder is gone


@pytest.mark.parametrize('arrays, meta, match', [
    (sample_arrays(2.0), dict(epoch=2, when=object()), r'its meta is not JSON-able .*meta keys: '),
    ({'w': np.ones(2, dtype=object)}, {}, r'TypeError: initializing tensor by numpy array failed'),
    ({'sbpose_meta': np.ones(2, np.float32)}, {},
     r"array name\(s\) \['sbpose_meta'\] are reserved"),
])
def test_failed_save_leaves_previous_file_intact(tmp_path, arrays, meta, match):
    path = ckpt_io.save_checkpoint(tmp_path / 'epoch_1.ckpt', sample_arrays(), dict(epoch=1))
    before = path.read_bytes()
    with pytest.raises(CheckpointError, match=rf'could not save checkpoint {path}.*' + match):
        ckpt_io.save_checkpoint(path, arrays, meta)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ['epoch_1.ckpt']  # no stray temporary file or folder
    assert ckpt_io.load_checkpoint(path)[1]['epoch'] == 1


def test_save_into_a_missing_or_unwritable_place_names_the_file(tmp_path):
    not_a_dir = tmp_path / 'file'
    not_a_dir.write_text('x')
    with pytest.raises(CheckpointError,
                       match=rf'could not save checkpoint {not_a_dir}/epoch_1.ckpt'):
        ckpt_io.save_checkpoint(not_a_dir / 'epoch_1.ckpt', sample_arrays(), {})
    with pytest.raises(ValueError, match='checkpoint path must end with .ckpt'):
        ckpt_io.save_checkpoint(tmp_path / 'epoch_1.pt', sample_arrays(), {})
    if os.geteuid() != 0:  # root ignores directory permissions
        locked = tmp_path / 'locked'
        locked.mkdir()
        path = ckpt_io.save_checkpoint(locked / 'epoch_1.ckpt', sample_arrays(), {})
        before = path.read_bytes()
        locked.chmod(0o500)
        try:
            with pytest.raises(CheckpointError, match=rf'could not save checkpoint {path}'):
                ckpt_io.save_checkpoint(path, sample_arrays(3.0), {})
        finally:
            locked.chmod(0o700)
        assert path.read_bytes() == before


def test_truncated_checkpoint_is_an_error_naming_the_file(tmp_path):
    good = ckpt_io.save_checkpoint(tmp_path / 'good.ckpt', sample_arrays(), dict(epoch=1))
    data = good.read_bytes()
    ends = record_ends(data)
    assert len(ends) == 5  # the array count, 3 arrays, the meta
    # cut at every record boundary (the file still parses) and inside records
    cuts = ends[:-1] + [1, ends[1] - 3, len(data) - 1]
    for cut in cuts:
        bad = tmp_path / f'cut_{cut}.ckpt'
        bad.write_bytes(data[:cut])
        with pytest.raises(CheckpointError, match=rf'checkpoint {bad} .*(incomplete|corrupt)'):
            ckpt_io.load_checkpoint(bad)
    garbage = tmp_path / 'garbage.ckpt'
    garbage.write_bytes(b'\x00\xff not a checkpoint' * 10)
    with pytest.raises(CheckpointError, match=rf'checkpoint {garbage} is corrupt'):
        ckpt_io.load_checkpoint(garbage)
    with pytest.raises(CheckpointError, match=rf'checkpoint not found: {tmp_path}/missing.ckpt'):
        ckpt_io.load_checkpoint(tmp_path / 'missing.ckpt')


def test_plain_mindspore_checkpoint_loads_without_meta(tmp_path):
    path = tmp_path / 'plain.ckpt'
    ms.save_checkpoint([{'name': 'w', 'data': ms.Tensor(np.ones((2, 2), np.float32))}], str(path))
    arrays, meta = ckpt_io.load_checkpoint(path)
    assert meta == {} and list(arrays) == ['w'] and arrays['w'].shape == (2, 2)


def test_find_latest_skips_corrupt_newest_and_follows_pointer(tmp_path):
    assert ckpt_io.find_latest_checkpoint(tmp_path / 'absent') is None
    assert ckpt_io.find_latest_checkpoint(tmp_path) is None
    for epoch in (1, 2, 9, 10):
        ckpt_io.save_checkpoint(tmp_path / f'epoch_{epoch}.ckpt', sample_arrays(epoch),
                                dict(epoch=epoch))
    assert ckpt_io.list_checkpoints(tmp_path) == [tmp_path / f'epoch_{e}.ckpt'
                                                  for e in (10, 9, 2, 1)]
    assert ckpt_io.find_latest_checkpoint(tmp_path) == tmp_path / 'epoch_10.ckpt'  # numeric order

    ckpt_io.write_pointer(tmp_path, tmp_path / 'epoch_2.ckpt')  # the pointer wins over numbering
    assert (tmp_path / 'last_checkpoint').read_text() == 'epoch_2.ckpt\n'
    assert ckpt_io.find_latest_checkpoint(tmp_path) == tmp_path / 'epoch_2.ckpt'

    ckpt_io.write_pointer(tmp_path, tmp_path / 'epoch_10.ckpt')
    newest = tmp_path / 'epoch_10.ckpt'
    newest.write_bytes(newest.read_bytes()[:-20])  # a crash while writing, without atomic rename
    messages = []
    found = ckpt_io.find_latest_checkpoint(tmp_path, log=messages.append)
    assert found == tmp_path / 'epoch_9.ckpt'
    assert len(messages) == 1 and 'skipping' in messages[0]
    assert f'checkpoint {newest}' in messages[0]

    ckpt_io.write_pointer(tmp_path, tmp_path / 'best_coco_AP_epoch_5.ckpt')  # a removed file
    found = ckpt_io.find_latest_checkpoint(tmp_path, log=messages.append)
    assert found == tmp_path / 'epoch_9.ckpt'
    assert 'checkpoint not found' in messages[1]
    # pointer writes are atomic: no temporary file left
    assert sorted(p for p in os.listdir(tmp_path) if p.startswith('.')) == []


def test_scalar_shapes_one_and_empty_match(tmp_path):
    path = ckpt_io.save_checkpoint(tmp_path / 's.ckpt', {'scale': np.array(2.5, np.float32)}, {})
    arrays, _ = ckpt_io.load_checkpoint(path)
    assert arrays['scale'].shape == (1,)  # MindSpore stores a 0-d array as shape (1,)
    ckpt_io.check_state_dict({'scale': ()}, arrays, str(path))
    ckpt_io.check_state_dict({'scale': (1,)}, {'scale': np.zeros(())}, 'x')
    assert ckpt_io.same_shape((), (1,)) and ckpt_io.same_shape((2, 3), (2, 3))
    assert not ckpt_io.same_shape((1,), (2,)) and not ckpt_io.same_shape((), (1, 1))
    with pytest.raises(CheckpointError, match=r'scale: checkpoint \(1,\) vs model \(1, 1\)'):
        ckpt_io.check_state_dict({'scale': (1, 1)}, arrays, str(path))


def test_check_state_dict_lists_missing_unexpected_and_misshaped():
    expected = {'a.weight': (2, 3), 'a.bias': (2,), 'b.weight': (4,)}
    arrays = {'a.weight': np.zeros((3, 2)), 'a.bias': np.zeros(2), 'c.weight': np.zeros(1)}
    with pytest.raises(CheckpointError) as err:
        ckpt_io.check_state_dict(expected, arrays, 'run/epoch_3.ckpt')
    msg = str(err.value)
    assert msg.startswith('checkpoint run/epoch_3.ckpt does not match the model:')
    assert 'missing in checkpoint (1): b.weight' in msg
    assert 'unexpected in checkpoint (1): c.weight' in msg
    assert 'mis-shaped (1): a.weight: checkpoint (3, 2) vs model (2, 3)' in msg
    ckpt_io.check_state_dict(expected, {k: np.zeros(s) for k, s in expected.items()}, 'ok')
    many = {f'p{i:02d}': (1,) for i in range(25)}
    with pytest.raises(CheckpointError,
                       match=r'missing in checkpoint \(25\): p00, .*p19, \.\.\. \(25 in all\)'):
        ckpt_io.check_state_dict(many, {}, 'empty.ckpt')


def flip_bit(path, needle: bytes, bit: int = 0, offset=None) -> None:
    """Flip one bit of the byte at ``offset`` (default: the middle) of ``needle``, which must
    occur once in the file."""
    data = bytearray(path.read_bytes())
    at = data.find(needle)
    assert at >= 0 and data.find(needle, at + 1) < 0, 'needle must occur exactly once'
    data[at + (len(needle) // 2 if offset is None else offset)] ^= 1 << bit
    path.write_bytes(bytes(data))


def test_a_flipped_bit_in_array_data_is_detected_and_named(tmp_path):
    arrays = sample_arrays()
    for bit in (0, 7):  # the lowest mantissa bit: a change MindSpore's parser cannot notice
        path = ckpt_io.save_checkpoint(tmp_path / f'bit{bit}.ckpt', arrays, dict(epoch=1))
        flip_bit(path, arrays['fc.weight'].tobytes(), bit)
        loaded = ms.load_checkpoint(str(path))  # MindSpore alone loads the changed value
        assert not np.array_equal(loaded['fc.weight'].asnumpy(), arrays['fc.weight'])
        with pytest.raises(CheckpointError,
                           match=rf"checkpoint {path}: array 'fc.weight' fails its CRC-32 "
                                 r'checksum .*corrupt'):
            ckpt_io.load_checkpoint(path)
    # the meta (epoch, random state ...) is checked too: epoch 1 -> epoch 0 (MindSpore stores
    # the string as UTF-32)
    path = ckpt_io.save_checkpoint(tmp_path / 'meta.ckpt', arrays, dict(epoch=1, note='x'))
    needle = '"epoch": 1'.encode('utf-32-le')
    flip_bit(path, needle, 0, offset=len(needle) - 4)
    assert '"epoch": 0' in ms.load_checkpoint(str(path))['sbpose_meta']
    with pytest.raises(CheckpointError, match=rf'checkpoint {path}: its sbpose_meta record fails'):
        ckpt_io.load_checkpoint(path)
    # an intact file still loads, and the checksums stay out of the meta
    arrays_back, meta = ckpt_io.load_checkpoint(
        ckpt_io.save_checkpoint(tmp_path / 'ok.ckpt', arrays, dict(epoch=1)))
    assert meta == dict(epoch=1, num_arrays=3)
    with pytest.raises(CheckpointError, match="meta key 'array_crc32' is reserved"):
        ckpt_io.save_checkpoint(tmp_path / 'r.ckpt', arrays, dict(array_crc32={}))


def test_auto_resume_skips_a_bit_flipped_checkpoint(tmp_path):
    """A real run: epoch_2.ckpt gets one flipped bit in a weight; ``resume=True`` logs why it is
    skipped and resumes from epoch_1.ckpt, like a truncated file."""
    import toy_components
    from sbcore.runner import Runner
    two_epochs = dict(max_epochs=2, val_interval=0)
    Runner(toy_components.toy_config(tmp_path, train_cfg=two_epochs)).train()
    newest = tmp_path / 'epoch_2.ckpt'
    arrays, _ = ckpt_io.load_checkpoint(newest)
    flip_bit(newest, arrays['fc1.weight'].tobytes(), 3)
    runner = Runner(toy_components.toy_config(tmp_path, resume=True, train_cfg=two_epochs))
    runner.train()
    log = (tmp_path / 'run.log').read_text()
    assert (f"skipping unusable checkpoint: checkpoint {newest}: array 'fc1.weight' fails its "
            f'CRC-32 checksum') in log
    assert f'resumed from {tmp_path}/epoch_1.ckpt at epoch 1' in log
    assert ckpt_io.load_checkpoint(newest)[1]['epoch'] == 2  # rewritten by the resumed run
