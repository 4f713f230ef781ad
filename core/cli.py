"""How every command-line tool ends: a user's mistake is one line and exit code 2, a bug a traceback.

    if __name__ == '__main__':
        sys.exit(run_tool(main))

A :class:`~sbcore.errors.UserError` (a bad config key or value, a missing file, a corrupt
checkpoint, an unknown plugin, a missing dataset field) is printed as one line,
``<tool>: error: <message>``, the way argparse reports a bad option, and the tool exits with 2 (as
argparse does). ``--debug`` on the command line, or ``SBPOSE_DEBUG=1``, shows the traceback
instead. Any other exception is a bug and keeps its traceback.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Callable, List, Optional, Sequence

from .errors import UserError

DEBUG_FLAG = '--debug'
DEBUG_ENV = 'SBPOSE_DEBUG'
USER_ERROR_EXIT_CODE = 2


def add_debug_argument(parser: argparse.ArgumentParser) -> None:
    """Declare ``--debug`` (read by :func:`run_tool`) so that ``--help`` lists it."""
    parser.add_argument(DEBUG_FLAG, action='store_true',
                        help=f'show the traceback of a user error (also: {DEBUG_ENV}=1)')


def one_line(exc: BaseException) -> str:
    """The exception's message on one line (multi-line messages joined with '; ')."""
    parts = [part.strip() for part in str(exc).splitlines() if part.strip()]
    return '; '.join(parts).replace(':;', ':') or type(exc).__name__


def debug_requested(argv: Sequence[str]) -> bool:
    return DEBUG_FLAG in argv or os.environ.get(DEBUG_ENV, '') not in ('', '0')


def run_tool(main: Callable[[Optional[List[str]]], int], argv: Optional[Sequence[str]] = None,
             prog: Optional[str] = None) -> int:
    """Call ``main(argv)`` and return its exit code; a ``UserError`` becomes one line on stderr
    and exit code 2 (unless debugging is requested)."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        return main(args)
    except UserError as exc:
        if debug_requested(args):
            raise
        name = prog or Path(sys.argv[0]).name
        print(f'{name}: error: {one_line(exc)}', file=sys.stderr, flush=True)
        return USER_ERROR_EXIT_CODE
