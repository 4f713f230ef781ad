"""The engine is an engine in fact: no module of core/ imports sbplugins (read by AST, every
form of import), none names the application, its tools or pose; the ``sbcore`` distribution's
metadata declares only the engine's own classes; installed alone into a fresh environment it
lists only its built-ins and trains a toy model."""
import ast
import json
import re
import textwrap
import tomllib
from importlib import metadata
from pathlib import Path

import pytest

from fresh_venv import FreshVenv

REPO = Path(__file__).resolve().parents[1]
CORE = REPO / 'core'
# words of the application or of pose that the engine must not use (identifiers and strings)
FOREIGN_WORDS = re.compile(r'sbplugins|sbpose|\btools/|\bpose\b|keypoint|coco|mpii|heatmap|'
                           r'skeleton', re.IGNORECASE)


def core_modules():
    return [p for p in sorted(CORE.rglob('*.py')) if 'build' not in p.relative_to(CORE).parts]


def imported_modules(tree: ast.AST):
    """Every module name the code imports: import/from statements, ``__import__`` and
    ``importlib.import_module`` with a literal name."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            yield node.module or ''
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, 'id', '')
            if name in ('__import__', 'import_module') and isinstance(node.args[0].value, str):
                yield node.args[0].value


def test_no_core_module_imports_sbplugins():
    modules = core_modules()
    assert len(modules) >= 30
    offenders = [f'{p.relative_to(REPO)}: {name}' for p in modules
                 for name in imported_modules(ast.parse(p.read_text(), str(p)))
                 if name.split('.')[0] == 'sbplugins']
    assert offenders == []


def test_the_ast_check_sees_every_form_of_import():
    code = textwrap.dedent('''
        import sbplugins.apis
        from sbplugins import registries
        import importlib
        importlib.import_module('sbplugins.metrics')
        __import__('sbplugins')
        def f():
            from sbplugins.utils import geometry
    ''')
    found = [n for n in imported_modules(ast.parse(code)) if n.startswith('sbplugins')]
    assert sorted(found) == ['sbplugins', 'sbplugins', 'sbplugins.apis', 'sbplugins.metrics',
                             'sbplugins.utils']


def test_no_core_module_names_the_application_its_tools_or_pose():
    offenders = []
    for path in core_modules():
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            texts = [node.value] if isinstance(node, ast.Constant) and isinstance(
                node.value, str) else [node.id] if isinstance(node, ast.Name) else []
            offenders += [f'{path.relative_to(REPO)}:{node.lineno}: {m.group(0)!r}'
                          for text in texts for m in FOREIGN_WORDS.finditer(text)]
    assert offenders == []


def test_engine_metadata_declares_only_engine_classes():
    declared = tomllib.loads((CORE / 'pyproject.toml').read_text())['project']
    installed = metadata.distribution('sbcore')
    assert installed.metadata['Name'] == 'sbcore'
    assert not any(r.lower().startswith('sbpose') for r in installed.requires or [])
    for eps in (
            [(g, n, t) for g, names in declared['entry-points'].items() for n, t in names.items()],
            [(ep.group, ep.name, ep.value) for ep in installed.entry_points]):
        assert {g for g, _, _ in eps} == {'sbcore.hooks', 'sbcore.loops', 'sbcore.optimizers',
                                          'sbcore.schedulers'}
        assert all(t.startswith('sbcore.') for _, _, t in eps), eps
    sbpose_targets = [ep.value for ep in metadata.distribution('sbpose').entry_points]
    assert sbpose_targets and not [t for t in sbpose_targets if t.startswith('sbcore.')]


TOY_RUN = '''
import json, sys
sys.path.insert(0, {tests!r})
import toy_components  # the engine's own test task: imports sbcore only
from sbcore.runner import Runner
try:
    import sbplugins
    print('SBPLUGINS', sbplugins.__file__)
except ImportError:
    pass
runner = Runner(toy_components.toy_config({work!r}, train_cfg=dict(max_epochs=3, val_interval=3)))
runner.train()
print('RESULT', json.dumps(dict(epoch=runner.epoch, file=__import__('sbcore').__file__)))
'''


def test_engine_installed_alone_lists_its_builtins_and_trains(tmp_path):
    venv = FreshVenv(tmp_path)
    src = venv.copy_sources('core')
    venv.pip_install(src / 'core')
    proc = venv.run(['-m', 'sbcore', 'plugins'], cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = [line.split() for line in proc.stdout.splitlines()[1:] if line.strip()]
    assert {r[2] for r in rows} == {'sbcore'}, rows  # distribution column: the engine only
    groups = {r[0] for r in rows}
    assert groups == {'sbcore.hooks', 'sbcore.loops', 'sbcore.optimizers', 'sbcore.schedulers'}
    assert ['sbcore.loops', 'IterBasedTrainLoop'] in [r[:2] for r in rows]
    assert 'warning' not in proc.stderr

    script = tmp_path / 'toy_run.py'
    script.write_text(TOY_RUN.format(tests=str(REPO / 'tests'), work=str(tmp_path / 'work')))
    proc = venv.run([str(script)], cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert 'SBPLUGINS' not in proc.stdout
    result = json.loads(proc.stdout.split('RESULT ', 1)[1])
    assert result['epoch'] == 3 and 'site-packages' in result['file']
    metrics = json.loads((tmp_path / 'work' / 'metrics.json').read_text())
    assert metrics['toy/count'] == 20 and metrics['toy/mse'] < 0.5
