"""Registries and plugin discovery through real entry points.

The installed ``sbcore`` distribution declares the engine's own classes (core/pyproject.toml), the
``sbpose`` distribution SimpleBaseline's (setup.py). Failure cases use real throw-away distributions: a ``<name>.dist-info``
folder (``METADATA`` + ``entry_points.txt``) plus its module, on a temporary ``sys.path`` entry,
which is exactly what the ``entrypoints`` package reads.
"""
import os
import re
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import pytest
from typing import Any, Dict, Optional, Sequence  # noqa: F401  (_Annotated's hints)

import sbcore  # noqa: F401  (sets the oneDNN ISA before anything imports mindspore)
from sbcore.registries import ALL_REGISTRIES, HOOKS, MODELS, OPTIMIZERS, SCHEDULERS, all_registries
from sbcore.registry import Registry, RegistryError

REPO = Path(__file__).resolve().parents[1]
SETUP_PY = REPO / 'setup.py'
CORE_PYPROJECT = REPO / 'core' / 'pyproject.toml'


def make_distribution(root: Path, dist_name: str, entry_points: dict, modules: dict,
                      version: str = '1.0') -> Path:
    """A minimal installed distribution under ``root``: dist-info metadata and module files.

    Args:
        entry_points: group -> {name: 'module:attr'}.
        modules: module file name (e.g. 'pkg_x.py') -> source text.
    """
    info = root / f'{dist_name}-{version}.dist-info'
    info.mkdir(parents=True)
    (info / 'METADATA').write_text(
        f'Metadata-Version: 2.1\nName: {dist_name}\nVersion: {version}\n')
    lines = []
    for group, eps in entry_points.items():
        lines.append(f'[{group}]')
        lines += [f'{name} = {target}' for name, target in eps.items()]
    (info / 'entry_points.txt').write_text('\n'.join(lines) + '\n')
    for filename, source in modules.items():
        (root / filename).write_text(textwrap.dedent(source))
    return root


def run_python(code: str, env_extra: dict = None, args=()) -> subprocess.CompletedProcess:
    env = dict(os.environ, **(env_extra or {}))
    return subprocess.run([sys.executable, *args, '-c', textwrap.dedent(code)], capture_output=True,
                          text=True, env=env, cwd=str(REPO), timeout=120)


def unique(prefix: str) -> str:
    return f'{prefix}_{uuid.uuid4().hex[:8]}'


@pytest.fixture
def test_group():
    """A private entry-point group, so throw-away plugins never reach the real registries."""
    return unique('sbtest.group')


# --- real entry points ---------------------------------------------------------------------------

def declared_entry_points(distribution='sbpose'):
    """(group, name, target) parsed from setup.py's ENTRY_POINTS (``sbpose``) or
    core/pyproject.toml (``sbcore``), independently of the registry."""
    if distribution == 'sbcore':
        import tomllib
        eps = tomllib.loads(CORE_PYPROJECT.read_text())['project']['entry-points']
        return [(g, n, t) for g, names in eps.items() for n, t in names.items()]
    text = SETUP_PY.read_text()
    found, group = [], None
    for line in text.splitlines():
        m = re.match(r"\s*'((?:sbcore|sbpose)\.\w+)': \[", line)
        if m:
            group = m.group(1)
            continue
        m = re.match(r"\s*'(\w+) = ([\w.]+:\w+)',", line)
        if m and group:
            found.append((group, m.group(1), m.group(2)))
    return found


@pytest.mark.parametrize('distribution, at_least', [('sbcore', 16), ('sbpose', 20)])
def test_every_declared_entry_point_is_discovered_with_its_distribution(distribution, at_least):
    declared = declared_entry_points(distribution)
    assert len(declared) >= at_least  # sbcore: hooks, loops, ...; sbpose: models, datasets, ...
    registries = {r.group: r for r in all_registries()}
    for group, name, target in declared:
        if group == 'sbcore.registries':  # registries themselves, not plugins of one
            continue
        specs = registries[group].specs[name]
        assert len(specs) == 1, (group, name, specs)
        assert specs[0].target == target
        assert specs[0].distribution.split(' ')[0] == distribution


def test_lookup_imports_the_declared_class():
    from sbcore.hooks.logger import LoggerHook
    from sbcore.schedulers import MultiStepLR
    assert HOOKS.get('LoggerHook') is LoggerHook
    assert SCHEDULERS.get('MultiStepLR') is MultiStepLR
    head = MODELS.get('DeconvHead')  # a SimpleBaseline plugin, reached only through its entry point
    assert head.__module__ == 'sbplugins.heads.deconv_head' and head.__name__ == 'DeconvHead'
    built = SCHEDULERS.build(dict(type='MultiStepLR', milestones=[2, 4]), gamma=0.5)
    assert isinstance(built, MultiStepLR) and built.gamma == 0.5  # default_args fill unset keys
    given = SCHEDULERS.build(dict(type='MultiStepLR', milestones=[2], gamma=0.2), gamma=0.5)
    assert given.gamma == 0.2  # ... and never override a given one


def test_discovery_and_listing_import_no_plugin_module():
    proc = run_python('''
        import sys
        from sbcore.registries import ALL_REGISTRIES
        total = sum(len(r.names()) for r in ALL_REGISTRIES)
        assert 'DeconvHead' in ALL_REGISTRIES[0] and 'LoggerHook' in ALL_REGISTRIES[4]
        loaded = sorted(m for m in sys.modules if m.startswith(('sbplugins', 'mindspore'))
                        or m in ('sbcore.hooks.logger', 'sbcore.hooks.checkpoint',
                                 'sbcore.schedulers'))
        print(total, loaded)
    ''')
    assert proc.returncode == 0, proc.stderr
    total, loaded = proc.stdout.split(' ', 1)
    assert int(total) >= 25
    assert loaded.strip() == '[]'


def test_unknown_name_names_registry_group_and_close_names():
    with pytest.raises(RegistryError) as err:
        HOOKS.get('LogerHook')
    msg = str(err.value)
    assert "hooks registry: no plugin named 'LogerHook'" in msg
    assert "'sbcore.hooks'" in msg
    assert "Did you mean 'LoggerHook'" in msg
    with pytest.raises(RegistryError,
                       match=r"models registry: .*'sbcore\.models'.*Did you mean 'ResNet'"):
        MODELS.build(dict(type='ResNett', depth=18))


# --- throw-away distributions ---------------------------------------------------------------------

def test_failing_plugin_names_itself_and_does_not_break_others(tmp_path, monkeypatch, test_group):
    good, broken = unique('sbtest_good'), unique('sbtest_broken')
    make_distribution(tmp_path, 'good_plugins', {test_group: {'GoodThing': f'{good}:GoodThing'}},
                      {f'{good}.py': 'class GoodThing:\n    def __init__(self, size=1):\n'
                                     '        self.size = size\n'})
    make_distribution(tmp_path, 'broken_plugins',
                      {test_group: {'BrokenThing': f'{broken}:BrokenThing'}},
                      {f'{broken}.py': 'import sbtest_module_that_does_not_exist\n'}, version='2.3')
    monkeypatch.syspath_prepend(str(tmp_path))
    reg = Registry('things', test_group)
    assert reg.names() == ['BrokenThing', 'GoodThing']
    with pytest.raises(RegistryError) as err:
        reg.get('BrokenThing')
    msg = str(err.value)
    assert "plugin 'BrokenThing'" in msg and 'broken_plugins 2.3' in msg
    assert f'{broken}:BrokenThing' in msg
    assert "ModuleNotFoundError: No module named 'sbtest_module_that_does_not_exist'" in msg
    assert isinstance(err.value.__cause__, ModuleNotFoundError)
    assert reg.build(dict(type='GoodThing', size=3)).size == 3  # the good plugin is unaffected
    assert HOOKS.get('LoggerHook').__name__ == 'LoggerHook'  # and so are the real registries


def test_missing_attribute_in_plugin_module_is_reported(tmp_path, monkeypatch, test_group):
    mod = unique('sbtest_attr')
    make_distribution(tmp_path, 'attr_plugins', {test_group: {'Missing': f'{mod}:NotThere'}},
                      {f'{mod}.py': 'X = 1\n'})
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(RegistryError, match=r"plugin 'Missing' from distribution attr_plugins 1\.0 "
                                            r".*AttributeError"):
        Registry('things', test_group).get('Missing')


def test_two_distributions_declaring_one_name_is_an_error(tmp_path, monkeypatch, test_group):
    mod_a, mod_b = unique('sbtest_a'), unique('sbtest_b')
    make_distribution(tmp_path, 'vendor_a', {test_group: {'Shared': f'{mod_a}:Shared',
                                                          'OnlyA': f'{mod_a}:Shared'}},
                      {f'{mod_a}.py': 'class Shared:\n    pass\n'})
    make_distribution(tmp_path, 'vendor_b', {test_group: {'Shared': f'{mod_b}:Shared'}},
                      {f'{mod_b}.py': 'class Shared:\n    pass\n'}, version='0.2')
    monkeypatch.syspath_prepend(str(tmp_path))
    reg = Registry('things', test_group)
    with pytest.raises(RegistryError) as err:
        reg.get('Shared')
    msg = str(err.value)
    assert 'more than one distribution' in msg
    assert f'vendor_a 1.0 ({mod_a}:Shared)' in msg and f'vendor_b 0.2 ({mod_b}:Shared)' in msg
    assert mod_a not in sys.modules and mod_b not in sys.modules  # nothing imported to decide
    assert reg.get('OnlyA').__module__ == mod_a


def test_refresh_finds_a_plugin_installed_at_run_time(tmp_path, monkeypatch, test_group):
    mod = unique('sbtest_late')
    reg = Registry('things', test_group)
    assert reg.names() == []
    make_distribution(tmp_path, 'late_plugins', {test_group: {'Late': f'{mod}:Late'}},
                      {f'{mod}.py': 'class Late:\n    pass\n'})
    monkeypatch.syspath_prepend(str(tmp_path))
    assert 'Late' not in reg  # discovery is cached ...
    reg.refresh()  # ... until refreshed
    assert 'Late' in reg and reg.get('Late').__name__ == 'Late'


def test_in_process_registration_and_its_conflicts(test_group):
    reg = Registry('things', test_group)

    @reg.register
    class Local:
        def __init__(self, a, b=2):
            self.a, self.b = a, b

    assert reg.get('Local') is Local and 'Local' in reg.names()
    reg.register(Local)  # the same class again is fine
    other = type('Local', (), {})
    with pytest.raises(RegistryError, match=r"'Local' is already registered"):
        reg.register(other)
    assert reg.register(other, force=True) is other and reg.get('Local') is other
    assert reg.get(Local) is Local  # a class passes through
    with pytest.raises(RegistryError, match=r'type must be a name \(str\) or a class, got int 3'):
        reg.get(3)


# --- build() arguments ---------------------------------------------------------------------------

def test_build_reports_bad_missing_and_unknown_arguments():
    with pytest.raises(RegistryError, match=r'schedulers registry: a config to build must be a '
                                            r'dict with a "type" key, got'):
        SCHEDULERS.build(dict(milestones=[1]))
    with pytest.raises(RegistryError, match='must be a dict'):
        SCHEDULERS.build(['MultiStepLR'])
    with pytest.raises(RegistryError,
                       match=r'MultiStepLR needs argument\(s\) milestones, not given'):
        SCHEDULERS.build(dict(type='MultiStepLR', gamma=0.1))
    with pytest.raises(RegistryError) as err:
        SCHEDULERS.build(dict(type='MultiStepLR', milestones=[1], gama=0.1, steps=3))
    assert "MultiStepLR does not take argument(s) 'gama' (did you mean 'gamma'?), 'steps'" in str(err.value)
    assert 'it takes: milestones, gamma, by_epoch, begin, end' in str(err.value)
    # an optimizer builder is a function: same checks, params filled by default_args
    with pytest.raises(RegistryError, match=r'SGD needs argument\(s\) params'):
        OPTIMIZERS.build(dict(type='SGD', lr=0.1))
    # a value the class itself rejects keeps the class's own message
    with pytest.raises(ValueError, match=r'MultiStepLR: gamma must be > 0, got -1'):
        SCHEDULERS.build(dict(type='MultiStepLR', milestones=[1], gamma=-1))



class _Annotated:
    """A component whose constructor is annotated the way plugins are (strings, as with
    ``from __future__ import annotations``)."""

    def __init__(self, depth: 'int', sigma: 'float' = 2.0, flip: 'bool' = True,
                 size: 'Sequence[int]' = (192, 256), name: 'Optional[str]' = None,
                 extra: 'Dict[str, Any]' = None, anything: 'Any' = None, layer: 'nn.Cell' = None):
        self.args = dict(depth=depth, sigma=sigma, flip=flip, size=size, name=name)


@pytest.mark.parametrize('value, hint, expected', [
    (3, int, True), (True, int, False), (2.0, int, False), ('3', int, False),
    (3, float, True), (2.5, float, True), (False, float, False), ('2', float, False),
    (True, bool, True), (1, bool, False), ('yes', bool, False), ('a', str, True), (1, str, False),
    ([1, 2], 'Sequence[int]', True), ((1, 2), 'Tuple[int, int]', True), ([1], 'List[int]', True),
    ('ab', 'Sequence[int]', False), (192, 'Sequence[int]', False), ({'a': 1}, 'Dict[str, int]', True),
    ([], 'dict', False), (None, 'Optional[float]', True), ('x', 'Optional[float]', False),
    (2, 'Union[int, str]', True), (2.5, 'Union[int, str]', False),
    ('x', 'Any', None), ('x', 'Callable', None), ('x', 'Union[int, Callable]', None),
])
def test_fits_says_whether_plain_config_data_fits_an_annotation(value, hint, expected):
    import typing
    from sbcore.arguments import fits
    if isinstance(hint, str):
        hint = eval(hint, vars(typing))
    assert fits(value, hint) is expected


def test_build_reports_a_value_that_does_not_fit_its_annotation(test_group):
    reg = Registry('toys', test_group)
    reg.register(_Annotated)
    for bad, shown in ((dict(depth='50'), "depth='50' (str) does not fit its annotation int"),
                       (dict(depth=50, sigma='2'), "sigma='2' (str) does not fit its annotation float"),
                       (dict(depth=50, size=192), 'size=192 (int) does not fit its annotation '
                                                  'Sequence[int]'),
                       (dict(depth=50, flip='no'), "flip='no' (str) does not fit its annotation bool")):
        with pytest.raises(TypeError) as err:  # a ConfigError: one line from a tool
            reg.build(dict(type='_Annotated', **bad))
        assert str(err.value) == f'toys registry: _Annotated: argument {shown}'
    # what fits is passed on unchanged: an int for a float, a list for a sequence, None for an
    # argument whose default is None, anything for what is not plain data
    built = reg.build(dict(type='_Annotated', depth=18, sigma=3, size=[96, 128], name=None,
                           extra=None, anything=object(), layer='not checked'))
    assert built.args == dict(depth=18, sigma=3, flip=True, size=[96, 128], name=None)

# --- python -m sbcore plugins ---------------------------------------------------------------------

def test_plugins_command_lists_without_importing_plugins(tmp_path):
    broken = unique('sbtest_cli_broken')
    make_distribution(tmp_path, 'cli_demo', {'sbcore.hooks': {'CliBrokenHook': f'{broken}:Hook'}},
                      {f'{broken}.py': 'raise RuntimeError("must not be imported by listing")\n'},
                      version='0.9')
    proc = subprocess.run([sys.executable, '-X', 'importtime', '-m', 'sbcore', 'plugins'],
                          capture_output=True, text=True, cwd=str(tmp_path), timeout=120,
                          env=dict(os.environ, PYTHONPATH=str(tmp_path)))
    assert proc.returncode == 0, proc.stderr[-2000:]
    rows = [line.split() for line in proc.stdout.splitlines()]
    assert rows[0] == ['group', 'name', 'distribution', 'target']
    assert ['sbcore.hooks', 'CliBrokenHook', 'cli_demo', '0.9', f'{broken}:Hook'] in rows
    assert ['sbcore.models', 'ResNet', 'sbpose', '0.1.0',
            'sbplugins.backbones.resnet:ResNet'] in rows
    assert ['sbcore.optimizers', 'Adam', 'sbcore', '0.1.0', 'sbcore.optimizers:Adam'] in rows
    assert ['sbcore.loops', 'IterBasedTrainLoop', 'sbcore', '0.1.0',
            'sbcore.loops:IterBasedTrainLoop'] in rows
    plugins = [d for d in declared_entry_points() if d[0] != 'sbcore.registries']
    assert sum(r[2] == 'sbpose' for r in rows[1:]) == len(plugins)
    imported = [line.rsplit('|', 1)[-1].strip() for line in proc.stderr.splitlines()
                if line.startswith('import time:')]
    assert 'sbcore.registry' in imported  # -X importtime did report imports
    # Declared registries are imported (sbplugins.registries, which loads only sbcore.registry);
    # no plugin class's module is.
    assert not [m for m in imported if m.startswith(('sbplugins.', 'mindspore', broken))
                and m != 'sbplugins.registries'
                or m in ('sbcore.hooks.logger', 'sbcore.schedulers', 'sbcore.optimizers')]


def test_plugins_command_flags_conflicts_and_unknown_groups(tmp_path):
    mod = unique('sbtest_cli_dup')
    make_distribution(tmp_path, 'dup_vendor', {'sbcore.schedulers': {'LinearLR': f'{mod}:LinearLR'},
                                               'sbcore.hook': {'TypoGroupHook': f'{mod}:Hook'}},
                      {f'{mod}.py': 'class LinearLR:\n    pass\n'})
    proc = subprocess.run([sys.executable, '-m', 'sbcore', 'plugins', '--group', 'schedulers'],
                          capture_output=True, text=True, cwd=str(tmp_path), timeout=120,
                          env=dict(os.environ, PYTHONPATH=str(tmp_path)))
    assert proc.returncode == 1  # a conflict is a failure for scripts
    groups = {line.split()[0] for line in proc.stdout.splitlines()[1:] if line.strip()}
    assert groups == {'sbcore.schedulers'}
    conflict_rows = [line for line in proc.stdout.splitlines() if 'LinearLR (CONFLICT)' in line]
    assert len(conflict_rows) == 2 and any('dup_vendor' in r for r in conflict_rows)
    assert '1 name(s) declared by more than one distribution' in proc.stderr
    assert ("warning: distribution dup_vendor declares entry points in group 'sbcore.hook', which "
            "no registry reads; did you mean 'sbcore.hooks'?") in proc.stderr


# --- the engine never depends on the plugins ---------------------------------------------------

def test_core_never_imports_sbplugins():
    proc = run_python('''
        import pkgutil, importlib, sys
        import sbcore
        names = [m.name for m in pkgutil.walk_packages(sbcore.__path__, 'sbcore.')]
        for name in names:
            importlib.import_module(name)
        print(len(names), sorted(m for m in sys.modules if m.startswith('sbplugins')))
    ''')
    assert proc.returncode == 0, proc.stderr[-2000:]
    count, loaded = proc.stdout.strip().split(' ', 1)
    assert int(count) >= 20 and loaded == '[]'  # every sbcore module imported, no sbplugins
    # the source-level check (AST) is tests/test_engine_boundary.py
