"""A fresh virtual environment for install tests, holding neither sbcore nor sbpose until a test
pip-installs them, non-editable, from a copy of the sources.

MindSpore, numpy, pycocotools ... come from this interpreter's site-packages, so nothing is
downloaded. ``--system-site-packages`` would also bring the sbcore/sbpose that CI installs there
(``.ci/run``), so the venv instead sees a folder of links to every site-packages entry except
those two distributions.
"""
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# what a copy of the repository for building leaves out (data, outputs, build trees)
IGNORED = shutil.ignore_patterns('.git', 'data', 'work_dirs', 'build', '*.egg-info', '__pycache__',
                                 '*.ckpt', '.hypothesis', 'kernel_meta', 'rank_*')


# site-packages entries of this project's own distributions (and their editable-install hooks)
OWN_ENTRY = re.compile(r'(sbpose|sbcore|sbplugins)', re.IGNORECASE)


def _site_dirs():
    return [Path(p) for p in sys.path if p.endswith('site-packages') and Path(p).is_dir()]


class FreshVenv:
    def __init__(self, root: Path):
        self.root = root
        subprocess.run([sys.executable, '-m', 'venv', '--without-pip', str(root / 'venv')],
                       check=True, timeout=120)
        self.python = str(root / 'venv' / 'bin' / 'python')
        links = root / 'site_links'
        links.mkdir()
        for site_dir in _site_dirs():
            for entry in site_dir.iterdir():
                if not OWN_ENTRY.search(entry.name) and not (links / entry.name).exists():
                    (links / entry.name).symlink_to(entry)
        venv_site = next((root / 'venv' / 'lib').glob('python*/site-packages'))
        # addsitedir also runs the .pth files among the links (namespace packages and the like)
        (venv_site / '_system_links.pth').write_text(
            f'import site; site.addsitedir({str(links)!r})\n')

    def copy_sources(self, *parts: str) -> Path:
        """A copy of the repository (or of ``parts`` of it) under ``root/src``."""
        src = self.root / 'src'
        if not parts:
            shutil.copytree(REPO, src, ignore=IGNORED)
        for part in parts:
            shutil.copytree(REPO / part, src / part, ignore=IGNORED)
        return src

    def pip_install(self, *targets) -> None:
        """Non-editable, no index (the dependencies are in the system site-packages)."""
        proc = self.run(['-m', 'pip', 'install', '--quiet', '--no-deps', '--no-build-isolation',
                         '--no-index', *map(str, targets)], cwd=self.root, timeout=300)
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]

    def run(self, args, cwd, timeout=300) -> subprocess.CompletedProcess:
        """``python args`` in the venv, in ``cwd``, with no PYTHONPATH (nothing from the repo)."""
        env = {k: v for k, v in os.environ.items() if k not in ('PYTHONPATH', 'VIRTUAL_ENV')}
        return subprocess.run([self.python, *args], capture_output=True, text=True,
                              cwd=str(cwd), env=env, timeout=timeout)
