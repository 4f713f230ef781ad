"""Runner hooks. Concrete hooks are found through the ``sbcore.hooks`` entry-point group."""
from .hook import HOOK_POINTS, Hook

__all__ = ['Hook', 'HOOK_POINTS']
