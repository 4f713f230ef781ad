"""Tests of sbcore.config: Python-file configs, inheritance, overrides and the dump round trip.

Every config here is a real file written to ``tmp_path`` and executed by ``Config.fromfile``.
"""
import argparse
import ast
import copy
import keyword
import math
import pickle
import textwrap
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sbcore.config import Config, ConfigError, DictAction, merge_values, parse_value


def write(path: Path, source: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(source))
    return path


# ------------------------------------------------------------------------------------ reading

def test_fromfile_keeps_public_values_only(tmp_path):
    cfg_file = write(tmp_path / 'plain.py', '''
        from __future__ import annotations
        import math
        import os.path as osp
        from collections import OrderedDict

        _scale = 2  # private helpers are not config
        work_dir = osp.join('work', 'run')
        lr = 1e-3 * _scale
        model = dict(type='Net', backbone=dict(depth=50, widths=[64, 128]))

        def helper():
            return 1

        class Local:
            pass

        steps = [helper(), math.floor(2.5)]
        ''')
    cfg = Config.fromfile(cfg_file)
    assert cfg.to_dict() == dict(work_dir='work/run', lr=2e-3,
                                 model=dict(type='Net', backbone=dict(depth=50, widths=[64, 128])),
                                 steps=[1, 2])
    assert cfg.filename == str(cfg_file.resolve())
    assert cfg.model.backbone.depth == 50
    assert cfg['model']['type'] == 'Net'
    assert cfg.get('seed') is None and cfg.get('seed', 7) == 7 and cfg.get('lr') == 2e-3
    assert 'model' in cfg and 'helper' not in cfg and '_scale' not in cfg
    assert list(cfg) == ['work_dir', 'lr', 'model', 'steps'] and len(cfg) == 4


def test_to_dict_returns_plain_containers_at_any_depth(tmp_path):
    cfg = Config.fromfile(write(tmp_path / 'c.py', '''
        pipeline = [dict(type='A', sub=[dict(x=1)]), (dict(y=2),)]
        '''))
    plain = cfg.to_dict()
    assert type(plain) is dict
    assert type(plain['pipeline'][0]) is dict and type(plain['pipeline'][0]['sub'][0]) is dict
    assert type(plain['pipeline'][1]) is tuple and type(plain['pipeline'][1][0]) is dict
    plain['pipeline'][0]['type'] = 'changed'  # a copy: the config is untouched
    assert cfg.pipeline[0].type == 'A'
    # dicts inside lists are attribute-accessible too
    assert cfg.pipeline[0].sub[0].x == 1 and cfg.pipeline[1][0].y == 2


def test_missing_key_raises_with_suggestion(tmp_path):
    cfg = Config.fromfile(write(tmp_path / 'c.py', 'model = dict(backbone=dict(depth=50))\n'))
    with pytest.raises(AttributeError, match=r"no key 'backbon'; did you mean 'backbone'"):
        cfg.model.backbon
    with pytest.raises(AttributeError, match="modle"):
        cfg.modle
    with pytest.raises(KeyError):
        cfg.model['head']
    assert not hasattr(cfg.model, 'head')


def test_attribute_and_item_assignment(tmp_path):
    cfg = Config.fromfile(write(tmp_path / 'c.py', 'seed = 1\n'))
    cfg.work_dir = 'out'
    cfg['model'] = dict(backbone=dict(depth=18))
    assert cfg.work_dir == 'out' and cfg.model.backbone.depth == 18
    cfg.merge_from_dict(None)  # what argparse leaves when --cfg-options is absent
    assert cfg.to_dict() == dict(seed=1, work_dir='out', model=dict(backbone=dict(depth=18)))


def test_config_survives_deepcopy_and_pickle(tmp_path):
    cfg = Config.fromfile(write(tmp_path / 'c.py', 'model = dict(a=[1, dict(b=2)])\n'))
    for clone in (copy.deepcopy(cfg), pickle.loads(pickle.dumps(cfg))):
        assert clone == cfg and clone.filename == cfg.filename
        clone.model.a[1].b = 3
        assert cfg.model.a[1].b == 2


# ------------------------------------------------------------------------------------ inheritance

def test_single_base_recursive_merge_lists_replaced(tmp_path):
    write(tmp_path / '_base_' / 'model.py', '''
        model = dict(type='Net', backbone=dict(depth=50, frozen=-1), losses=['mse', 'l1'])
        seed = 0
        ''')
    cfg = Config.fromfile(write(tmp_path / 'child.py', '''
        _base_ = './_base_/model.py'
        model = dict(backbone=dict(depth=18), losses=['mse'], head=dict(out=17))
        '''))
    assert cfg.to_dict() == dict(
        model=dict(type='Net', backbone=dict(depth=18, frozen=-1), losses=['mse'],
                   head=dict(out=17)),
        seed=0)


def test_bases_merge_in_order_then_own_values(tmp_path):
    write(tmp_path / 'a.py', "x = 1\nopt = dict(lr=0.1, momentum=0.9)\norder = 'a'\n")
    write(tmp_path / 'b.py', "y = 2\nopt = dict(lr=0.01)\norder = 'b'\n")
    cfg = Config.fromfile(write(tmp_path / 'c.py', '''
        _base_ = ['a.py', 'b.py']
        opt = dict(wd=1e-4)
        '''))
    assert cfg.to_dict() == dict(x=1, opt=dict(lr=0.01, momentum=0.9, wd=1e-4), order='b', y=2)


def test_base_paths_are_relative_to_the_file_that_names_them(tmp_path):
    # configs/pose/child.py -> ../_base_/runtime.py -> ./default.py (next to runtime.py)
    write(tmp_path / 'configs' / '_base_' / 'default.py', "seed = 1\nlog = dict(interval=50)\n")
    write(tmp_path / 'configs' / '_base_' / 'runtime.py',
          "_base_ = './default.py'\nlog = dict(interval=10)\n")
    cfg = Config.fromfile(write(tmp_path / 'configs' / 'pose' / 'child.py',
                                "_base_ = '../_base_/runtime.py'\nseed = 3\n"))
    assert cfg.to_dict() == dict(seed=3, log=dict(interval=10))


def test_diamond_inheritance_is_not_a_cycle(tmp_path):
    write(tmp_path / 'root.py', 'v = dict(root=1)\n')
    write(tmp_path / 'left.py', "_base_ = 'root.py'\nv = dict(left=1)\n")
    write(tmp_path / 'right.py', "_base_ = 'root.py'\nv = dict(right=1)\n")
    cfg = Config.fromfile(write(tmp_path / 'top.py', "_base_ = ['left.py', 'right.py']\n"))
    assert cfg.v.to_dict() == dict(root=1, left=1, right=1)


def test_delete_replaces_instead_of_merging_and_is_removed(tmp_path):
    write(tmp_path / 'base.py', '''
        optimizer = dict(type='SGD', lr=0.1, momentum=0.9)
        model = dict(head=dict(type='A', loss=dict(type='L', weight=1)))
        ''')
    cfg = Config.fromfile(write(tmp_path / 'child.py', '''
        _base_ = 'base.py'
        optimizer = dict(_delete_=True, type='Adam', lr=5e-4)
        model = dict(head=dict(loss=dict(_delete_=True, type='M')))
        new = dict(_delete_=True, a=1)  # nothing to replace: the marker still disappears
        '''))
    assert cfg.to_dict() == dict(optimizer=dict(type='Adam', lr=5e-4),
                                 model=dict(head=dict(type='A', loss=dict(type='M'))),
                                 new=dict(a=1))


def test_delete_marker_in_a_base_does_not_leak_to_its_child(tmp_path):
    write(tmp_path / 'a.py', "opt = dict(type='SGD', momentum=0.9)\n")
    write(tmp_path / 'b.py', "_base_ = 'a.py'\nopt = dict(_delete_=True, type='Adam')\n")
    cfg = Config.fromfile(write(tmp_path / 'c.py', "_base_ = 'b.py'\nopt = dict(lr=1)\n"))
    assert cfg.to_dict() == dict(opt=dict(type='Adam', lr=1))


def test_dict_over_non_dict_base_value_is_an_error(tmp_path):
    write(tmp_path / 'base.py', "scheduler = [dict(type='A')]\nnothing = None\n")
    with pytest.raises(ConfigError, match=r"scheduler: a dict cannot be merged .*_delete_=True"):
        Config.fromfile(write(tmp_path / 'bad.py', "_base_ = 'base.py'\nscheduler = dict(b=1)\n"))
    # replacing a None base value with a dict is allowed, as is _delete_ over a list
    cfg = Config.fromfile(write(tmp_path / 'ok.py', '''
        _base_ = 'base.py'
        nothing = dict(a=1)
        scheduler = dict(_delete_=True, b=1)
        '''))
    assert cfg.to_dict() == dict(scheduler=dict(b=1), nothing=dict(a=1))


def test_merge_values_does_not_modify_its_inputs():
    base = dict(a=dict(b=1, c=[1]), d=2)
    override = dict(a=dict(b=3), e=dict(_delete_=True, f=1))
    merged = merge_values(base, override)
    assert merged == dict(a=dict(b=3, c=[1]), d=2, e=dict(_delete_=True, f=1))
    assert base == dict(a=dict(b=1, c=[1]), d=2)
    assert override == dict(a=dict(b=3), e=dict(_delete_=True, f=1))


# ------------------------------------------------------------------------------------ file errors

def test_missing_base_names_the_asking_file_and_resolved_path(tmp_path):
    child = write(tmp_path / 'sub' / 'child.py', "_base_ = ['../missing_base.py']\n")
    with pytest.raises(ConfigError) as info:
        Config.fromfile(child)
    message = str(info.value)
    assert str(child.resolve()) in message
    assert str((tmp_path / 'missing_base.py').resolve()) in message and 'not found' in message
    assert isinstance(info.value, ValueError)


def test_inheritance_cycle_shows_the_chain(tmp_path):
    a = write(tmp_path / 'a.py', "_base_ = 'b.py'\n")
    b = write(tmp_path / 'b.py', "_base_ = 'c.py'\n")
    c = write(tmp_path / 'c.py', "_base_ = 'a.py'\n")
    with pytest.raises(ConfigError, match='cycle') as info:
        Config.fromfile(a)
    chain = ' -> '.join(str(p.resolve()) for p in (a, b, c, a))
    assert chain in str(info.value)
    selfish = write(tmp_path / 'self.py', "_base_ = './self.py'\n")
    with pytest.raises(ConfigError, match='cycle'):
        Config.fromfile(selfish)


@pytest.mark.parametrize('source, expected', [
    ("seed = 1\nmodel = dict(depth=50,,)\nx = 2\n", ['model = dict(depth=50,,)']),
    ("a = 1\nb = undefined_name + 1\n", ['undefined_name', 'NameError']),
], ids=['syntax_error', 'runtime_error'])
def test_config_error_names_file_line_and_text(tmp_path, source, expected):
    bad = write(tmp_path / 'bad.py', source)
    with pytest.raises(ConfigError) as info:
        Config.fromfile(bad)
    message = str(info.value)
    assert str(bad.resolve()) in message and 'line 2' in message
    assert all(text in message for text in expected), message


def test_syntax_error_in_a_base_names_the_base(tmp_path):
    base = write(tmp_path / 'base.py', 'x = [1, 2\n')
    with pytest.raises(ConfigError, match='syntax error') as info:
        Config.fromfile(write(tmp_path / 'child.py', "_base_ = 'base.py'\n"))
    assert str(base.resolve()) in str(info.value)


def test_base_that_is_not_python_is_an_error(tmp_path):
    write(tmp_path / 'base.yaml', 'seed: 1\n')
    child = write(tmp_path / 'child.py', "_base_ = 'base.yaml'\n")
    with pytest.raises(ConfigError, match=r"base config 'base.yaml' is not a \.py file") as info:
        Config.fromfile(child)
    assert str(child.resolve()) in str(info.value)


@pytest.mark.parametrize('bad_base', ['3', "['a.py', 3]", "dict(a='a.py')"])
def test_base_of_the_wrong_type_is_an_error(tmp_path, bad_base):
    with pytest.raises(ConfigError, match='_base_ must be a path or a list of paths'):
        Config.fromfile(write(tmp_path / 'child.py', f'_base_ = {bad_base}\n'))


def test_fromfile_rejects_missing_and_non_python_files(tmp_path):
    with pytest.raises(ConfigError, match='not found'):
        Config.fromfile(tmp_path / 'absent.py')
    with pytest.raises(ConfigError, match=r'not a \.py file'):
        Config.fromfile(write(tmp_path / 'c.json', '{}'))


# ------------------------------------------------------------------------------------ overrides

@pytest.mark.parametrize('text, expected', [
    ('3', 3), ('-2', -2), ('0.25', 0.25), ('1e-3', 1e-3),
    ('True', True), ('true', True), ('False', False), ('false', False),
    ('None', None), ('none', None),
    ('[1,2]', [1, 2]), ('[1, 2.5, True]', [1, 2.5, True]), ('[]', []),
    ('a,b,c', ['a', 'b', 'c']), ('1,2', [1, 2]), ('x,', ['x']),
    ('(1,2)', (1, 2)), ('(1,)', (1,)), ('()', ()), ('(a,b)', ('a', 'b')),
    ('[(1,2),[3,4]]', [(1, 2), [3, 4]]), ('[a,[b,c]]', ['a', ['b', 'c']]),
    ('1,[2,3],(x,y)', [1, [2, 3], ('x', 'y')]),
    ("'42'", '42'), ('"a,b"', 'a,b'), ("'x,y',z", ['x,y', 'z']),
    ('{"a": 1}', {'a': 1}),
    ('resnet50', 'resnet50'), ('work_dirs/run-1', 'work_dirs/run-1'), ('', ''),
    ('http://x/y.pth', 'http://x/y.pth'),
])
def test_parse_value_types(text, expected):
    value = parse_value(text)
    assert value == expected and type(value) is type(expected)


@settings(max_examples=60, deadline=None)
@given(st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda children: st.lists(children, max_size=3) | st.tuples(children, children),
    max_leaves=8))
def test_parse_value_reads_python_literals_back(value):
    assert parse_value(repr(value)) == value


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(exit_on_error=False)
    parser.add_argument('config')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    return parser


def test_dict_action_collects_typed_options():
    args = make_parser().parse_args([
        'c.py', '--cfg-options', 'seed=3', 'optim.lr=0.01', 'flip=false', 'ckpt=None',
        'gpus=[0,1]', 'names=a,b', 'size=(192,256)', 'tag="007"', 'note=hello=world',
        '--cfg-options', 'seed=4'])
    assert args.cfg_options == {'seed': 4, 'optim.lr': 0.01, 'flip': False, 'ckpt': None,
                                'gpus': [0, 1], 'names': ['a', 'b'], 'size': (192, 256),
                                'tag': '007', 'note': 'hello=world'}
    assert make_parser().parse_args(['c.py']).cfg_options is None


def test_dict_action_rejects_items_without_equals():
    with pytest.raises(argparse.ArgumentError, match="expected key=value, got 'seed'"):
        make_parser().parse_args(['c.py', '--cfg-options', 'seed'])


def test_merge_from_dict_sets_nested_keys_and_list_items(tmp_path):
    cfg = Config.fromfile(write(tmp_path / 'c.py', '''
        train_dataloader = dict(batch_size=32, dataset=dict(
            type='Coco', pipeline=[dict(type='Load'), dict(type='Flip', prob=0.5)]))
        model = dict(backbone=dict(depth=50, out=(3,)), head=dict(type='A', k=17))
        '''))
    args = make_parser().parse_args([
        'c.py', '--cfg-options', 'train_dataloader.dataset.pipeline.1.prob=0.3',
        'train_dataloader.batch_size=8', 'model.backbone.depth=18', 'new.deep.key=x',
        'model.head={"k": 16, "extra": 1}', 'model.backbone.out=(1,2)'])
    cfg.merge_from_dict(args.cfg_options)
    assert cfg.to_dict() == dict(
        train_dataloader=dict(batch_size=8, dataset=dict(
            type='Coco', pipeline=[dict(type='Load'), dict(type='Flip', prob=0.3)])),
        model=dict(backbone=dict(depth=18, out=(1, 2)), head=dict(type='A', k=16, extra=1)),
        new=dict(deep=dict(key='x')))
    assert cfg.new.deep.key == 'x' and cfg.train_dataloader.dataset.pipeline[1].prob == 0.3


def test_merge_from_dict_honours_delete_and_replaces_whole_items(tmp_path):
    cfg = Config.fromfile(write(tmp_path / 'c.py', '''
        optimizer = dict(type='SGD', lr=0.1, momentum=0.9)
        pipeline = [dict(type='A'), dict(type='B', p=1)]
        '''))
    cfg.merge_from_dict({'optimizer': dict(_delete_=True, type='Adam', lr=1e-3),
                         'pipeline.1': dict(type='C'), 'pipeline.0.extra': [1]})
    assert cfg.to_dict() == dict(optimizer=dict(type='Adam', lr=1e-3),
                                 pipeline=[dict(type='A', extra=[1]), dict(type='C', p=1)])


@pytest.mark.parametrize('option, message', [
    ('pipeline.2.p', r"'pipeline.2' indexes a list of 2 items"),
    ('pipeline.x.p', r"'pipeline.x' indexes a list of 2 items"),
    ('seed.value', r"'seed' is 3, not a dict or list to set 'value' in"),
    ('size.0', r"'size' is \(1, 2\), not a dict or list"),
])
def test_merge_from_dict_errors_name_the_option(tmp_path, option, message):
    cfg = Config.fromfile(write(tmp_path / 'c.py', '''
        seed = 3
        size = (1, 2)
        pipeline = [dict(type='A'), dict(type='B')]
        '''))
    with pytest.raises(ConfigError, match=message):
        cfg.merge_from_dict({option: 1})


# ------------------------------------------------------------------------------------ dumping

ROUND_TRIP_SOURCE = '''
    work_dir = 'work_dirs/exp'
    seed = 42
    lr = 5e-4
    betas = (0.9, 0.999)
    single = ('only',)
    empty = dict(list=[], tuple=(), dict={})
    limits = dict(low=float('-inf'), high=float('inf'), tiny=1e-300, big=2**70, neg=-3)
    flags = dict(on=True, off=False, nothing=None)
    text = dict(quote="it's \\"quoted\\"", newline='a\\nb', unicode='\u00e9\u4e2d',
                raw=b'\\x00\\xff')
    odd_keys = {'with-dash': 1, 3: 'int key', 'class': 'keyword key'}
    model = dict(
        type='TopdownPoseEstimator',
        backbone=dict(type='ResNet', depth=50, out_indices=(3,)),
        head=dict(type='DeconvHead', deconv_channels=[256, 256, 256], kernels=[4, 4, 4]),
        test_cfg=dict(flip_test=True, shift_heatmap=True))
    pipeline = [dict(type='Load'), dict(type='Flip', prob=0.5), [dict(nested=[dict(deep=1)])]]
    '''


def test_pretty_text_is_formatted_valid_python(tmp_path):
    cfg = Config.fromfile(write(tmp_path / 'c.py', ROUND_TRIP_SOURCE))
    text = cfg.pretty_text
    ast.parse(text)
    assert text.startswith("work_dir = 'work_dirs/exp'\nseed = 42\n")
    # yapf wraps the long dict one argument per line under the 100-column limit
    assert "model = dict(type='TopdownPoseEstimator',\n             backbone=dict(" in text
    assert all(len(line) <= 100 for line in text.splitlines())


def test_dump_round_trip_loads_an_equal_config(tmp_path):
    write(tmp_path / 'base.py', ROUND_TRIP_SOURCE)
    cfg = Config.fromfile(write(tmp_path / 'child.py', '''
        _base_ = 'base.py'
        model = dict(backbone=dict(depth=18), head=dict(_delete_=True, type='Other'))
        '''))
    cfg.merge_from_dict({'pipeline.1.prob': 0.3, 'extra.key': [1, (2, 'x')]})
    dumped = tmp_path / 'out' / 'dumped.py'
    cfg.dump(dumped)
    loaded = Config.fromfile(dumped)
    assert loaded.to_dict() == cfg.to_dict() and loaded == cfg
    assert loaded.model.head.to_dict() == dict(type='Other')
    assert type(loaded.betas) is tuple and type(loaded.single) is tuple
    assert math.isinf(loaded.limits.low) and loaded.limits.low < 0
    assert loaded.pretty_text == cfg.pretty_text  # a second dump changes nothing
    assert sorted(p.name for p in dumped.parent.iterdir()) == ['dumped.py']  # no temp file left


def test_dump_round_trip_with_nan_and_shadowing_key(tmp_path):
    # A top-level key named 'dict' would shadow dict(...) calls in the dumped file.
    cfg = Config(dict(dict=dict(a=1), other=dict(b=[dict(c=float('nan'))])))
    cfg.dump(tmp_path / 'c.py')
    loaded = Config.fromfile(tmp_path / 'c.py')
    assert loaded.dict.a == 1 and math.isnan(loaded.other.b[0].c)


def test_dump_overwrites_and_rejects_bad_targets_and_values(tmp_path):
    target = write(tmp_path / 'c.py', 'old = 1\n')
    Config(dict(new=2)).dump(target)
    assert Config.fromfile(target).to_dict() == dict(new=2)
    with pytest.raises(ConfigError, match=r'must end in \.py'):
        Config(dict(a=1)).dump(tmp_path / 'c.txt')
    with pytest.raises(ConfigError, match=r"model\.layers\.1: cannot write set value"):
        Config(dict(model=dict(layers=[1, {2, 3}]))).dump(tmp_path / 'd.py')
    with pytest.raises(ConfigError, match="top-level key 'a-b' cannot be written"):
        Config({'a-b': 1}).pretty_text
    assert sorted(p.name for p in tmp_path.iterdir()) == ['c.py']  # failed dumps wrote nothing


config_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=6),
    lambda children: st.lists(children, max_size=3) | st.tuples(children)
    | st.dictionaries(st.text(max_size=5) | st.integers(), children, max_size=3),
    max_leaves=10)


@settings(max_examples=40, deadline=None)
@given(st.dictionaries(st.from_regex(r'[a-z][a-z0-9_]{0,6}', fullmatch=True), config_values,
                       max_size=4))
def test_dump_round_trip_of_arbitrary_values(tmp_path_factory, data):
    data = {k: v for k, v in data.items() if not keyword.iskeyword(k)}
    path = tmp_path_factory.mktemp('rt') / 'c.py'
    Config(data).dump(path)
    assert Config.fromfile(path).to_dict() == data
