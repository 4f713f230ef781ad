"""Importing a command-line tool of ``tools/`` (a script folder, not a package) as a module."""
import importlib.util
from pathlib import Path
from types import ModuleType

TOOLS = Path(__file__).resolve().parents[1] / 'tools'


def load_tool_module(name: str) -> ModuleType:
    """``tools/<name>.py`` imported as the module ``sbpose_tool_<name>``."""
    spec = importlib.util.spec_from_file_location(f'sbpose_tool_{name}', TOOLS / f'{name}.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
