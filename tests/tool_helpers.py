"""The command-line tools of ``tools/`` (a script folder, not a package) as tests use them: run in
a subprocess from the repository root, or imported as a module; and the frames of a video a tool
wrote, read back with OpenCV alone (independent of the project's own video reader)."""
import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import List

import cv2
import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
TOOLS = REPO_ROOT / 'tools'


def run_tool(script: str, *args, ok: bool = True,
             timeout: float = 600) -> subprocess.CompletedProcess:
    """``python tools/<script> args`` from the repository root; with ``ok`` it must exit 0."""
    proc = subprocess.run([sys.executable, str(TOOLS / script), *map(str, args)], cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=timeout)
    if ok:
        assert proc.returncode == 0, f'{script} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}'
    return proc


def load_tool_module(name: str) -> ModuleType:
    """``tools/<name>.py`` imported as the module ``sbpose_tool_<name>``."""
    spec = importlib.util.spec_from_file_location(f'sbpose_tool_{name}', TOOLS / f'{name}.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def read_video(path) -> List[np.ndarray]:
    """Every frame of the video file ``path``, BGR."""
    capture, frames = cv2.VideoCapture(str(path)), []
    while True:
        ok, image = capture.read()
        if not ok:
            break
        frames.append(image)
    capture.release()
    return frames
