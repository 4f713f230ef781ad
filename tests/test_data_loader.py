"""The data loader: batches from worker processes are the same as in one process, every sample
once per epoch, seeded augmentation, drop_last, rank sharding with flagged padding; a user's error
while loading (a truncated image) comes out as itself, a bug as MindSpore's error with its
traceback."""
import numpy as np
import pytest

import sbcore  # noqa: F401  (sets the oneDNN ISA before mindspore loads)
from sbcore.data import DataLoader
from sbcore.errors import ConfigError, DataError, UserError
from sbplugins.datasets.coco import CocoDataset
from sbplugins.transforms.loading import ImageFileError
from test_bad_inputs import PIPELINE


class RandomisedDataset:
    """Sample ``idx``: an image-like array from ``idx`` plus one random draw (the 'augmentation')."""

    def __init__(self, n: int):
        self.n = n

    def __len__(self) -> int:
        return self.n

    def get_sample(self, idx: int, rng: np.random.Generator) -> dict:
        return dict(img=np.full((4, 3, 3), idx, np.uint8),
                    aug=np.float32(rng.uniform()),
                    label=np.int64(idx * 10))


class FailingDataset(RandomisedDataset):
    """``RandomisedDataset`` whose sample ``fail_at`` raises ``error``."""

    def __init__(self, n: int, fail_at: int, error: Exception):
        super().__init__(n)
        self.fail_at, self.error = fail_at, error

    def get_sample(self, idx: int, rng: np.random.Generator) -> dict:
        if idx == self.fail_at:
            raise self.error
        return super().get_sample(idx, rng)


def collect(loader: DataLoader, epoch: int) -> list:
    loader.set_epoch(epoch)
    return list(loader)


@pytest.mark.parametrize('drop_last', [False, True])
def test_worker_processes_give_the_batches_of_one_process(drop_last):
    dataset = RandomisedDataset(23)
    one = DataLoader(dataset, batch_size=5, shuffle=True, num_workers=1, drop_last=drop_last, seed=3)
    two = DataLoader(dataset, batch_size=5, shuffle=True, num_workers=2, drop_last=drop_last, seed=3)
    for epoch in (0, 1):
        a, b = collect(one, epoch), collect(two, epoch)
        assert len(a) == len(b) == len(one) == (4 if drop_last else 5)
        assert [len(x['sample_idx']) for x in a] == ([5] * 4 if drop_last else [5, 5, 5, 5, 3])
        for x, y in zip(a, b):
            assert sorted(x) == ['aug', 'img', 'is_pad', 'label', 'sample_idx']
            for key in x:
                np.testing.assert_array_equal(x[key], y[key])
            assert x['img'].shape == (len(x['sample_idx']), 4, 3, 3)
            # each row is its own sample: image and label come from the same index
            np.testing.assert_array_equal(x['img'][:, 0, 0, 0], x['sample_idx'])
            np.testing.assert_array_equal(x['label'], x['sample_idx'] * 10)
    seen = np.concatenate([x['sample_idx'] for x in collect(one, 0)])
    if not drop_last:
        assert sorted(seen.tolist()) == list(range(23))  # every sample once per epoch
    first, second = collect(one, 0), collect(one, 1)
    assert not np.array_equal(first[0]['sample_idx'], second[0]['sample_idx'])  # reshuffled
    # the augmentation draw depends on (seed, epoch, index), not on the position in the epoch
    draws = {int(i): float(v) for x in first for i, v in zip(x['sample_idx'], x['aug'])}
    again = {int(i): float(v) for x in collect(one, 0) for i, v in zip(x['sample_idx'], x['aug'])}
    assert draws == again


def test_ranks_split_an_epoch_and_flag_the_padding():
    dataset = RandomisedDataset(7)
    shards = [collect(DataLoader(dataset, batch_size=2, shuffle=True, num_workers=1, seed=0,
                                 rank=rank, world_size=2), 0) for rank in (0, 1)]
    idx = [np.concatenate([x['sample_idx'] for x in shard]) for shard in shards]
    pad = [np.concatenate([x['is_pad'] for x in shard]) for shard in shards]
    assert len(idx[0]) == len(idx[1]) == 4  # 7 padded to 8: the same number of steps per rank
    real = np.concatenate([i[~p] for i, p in zip(idx, pad)])
    assert sorted(real.tolist()) == list(range(7)) and sum(p.sum() for p in pad) == 1


def test_samples_of_uneven_shape_name_the_key():
    class Uneven(RandomisedDataset):
        def get_sample(self, idx, rng):
            return dict(img=np.zeros((idx + 1, 2), np.uint8))

    with pytest.raises(Exception, match=r"samples of one batch differ in shape: \{'img'"):
        list(DataLoader(Uneven(4), batch_size=2, shuffle=False, num_workers=1))


@pytest.mark.parametrize('num_workers', [1, 2])
def test_a_truncated_image_in_a_worker_is_raised_as_itself(num_workers, coco_sample,
                                                            truncated_coco_image):
    """Read in a worker thread (1) or process (2), a truncated JPEG reaches the caller as the
    ImageFileError LoadImage raised, not as MindSpore's RuntimeError: after the batch before it,
    naming the sample and the file, with the worker's traceback as its cause (``--debug``)."""
    path = truncated_coco_image['path']
    dataset = CocoDataset(str(coco_sample['ann_file']), pipeline=PIPELINE,
                          data_prefix=dict(img=f'{truncated_coco_image["img_dir"]}/'))
    seen = []
    with pytest.raises(ImageFileError) as info:
        for batch in DataLoader(dataset, batch_size=1, shuffle=False, num_workers=num_workers):
            seen.append(batch['sample_idx'].tolist())
    assert seen == [[0]]
    assert str(info.value) == (
        f'CocoDataset sample 1: LoadImage: image file {path} is truncated '
        f'({truncated_coco_image["full_size"] // 2} bytes): its JPEG data ends before the '
        'end-of-image marker; expected a complete JPEG (copy or download it again)')
    assert isinstance(info.value, DataError) and isinstance(info.value, OSError)
    cause = info.value.__cause__
    assert type(cause).__name__ == '_WorkerTraceback', cause
    assert 'in read_image' in str(cause) and 'ImageFileError: CocoDataset sample 1' in str(cause)


@pytest.mark.parametrize('num_workers', [1, 2])
def test_user_errors_keep_their_type_and_bugs_their_traceback(num_workers):
    loader = DataLoader(FailingDataset(8, 5, ConfigError('bad value')), batch_size=2,
                        shuffle=False, num_workers=num_workers)
    with pytest.raises(ConfigError, match=r'^FailingDataset sample 5: bad value$'):
        list(loader)
    # an error whose arguments do not pickle still arrives, as a DataError with its message
    unpicklable = DataError('odd value', lambda: None)
    with pytest.raises(DataError, match=r'^FailingDataset sample 5: odd value$'):
        list(DataLoader(FailingDataset(8, 5, unpicklable), batch_size=2, shuffle=False,
                        num_workers=num_workers))
    # a bug is no user error: MindSpore's RuntimeError with the traceback of the bug
    buggy = DataLoader(FailingDataset(8, 5, TypeError('a bug in a transform')), batch_size=2,
                       shuffle=False, num_workers=num_workers)
    with pytest.raises(RuntimeError,
                       match=r'(?s)Traceback .*TypeError: a bug in a transform') as info:
        list(buggy)
    assert not isinstance(info.value, UserError)
