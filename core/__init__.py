"""sbcore: a small training engine for MindSpore that knows no task of its own (its plugins do).

Importing ``sbcore`` never imports MindSpore; :func:`sbcore.env.setup_env` must run before it is
(see core/env.py for why).
"""
from .env import setup_env

setup_env()

__version__ = '0.1.0'
