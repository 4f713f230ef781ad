"""A fresh virtual environment for install tests: ``python -m venv --system-site-packages`` (so
MindSpore, numpy, pycocotools ... come from the system, nothing is downloaded) holding neither
sbcore nor sbpose until a test pip-installs them, non-editable, from a copy of the sources."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# what a copy of the repository for building leaves out (data, outputs, build trees)
IGNORED = shutil.ignore_patterns('.git', 'data', 'work_dirs', 'build', '*.egg-info', '__pycache__',
                                 '*.ckpt', '.hypothesis', 'kernel_meta', 'rank_*')


class FreshVenv:
    def __init__(self, root: Path):
        self.root = root
        subprocess.run([sys.executable, '-m', 'venv', '--system-site-packages', str(root / 'venv')],
                       check=True, timeout=120)
        self.python = str(root / 'venv' / 'bin' / 'python')

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
