"""``python -m sbcore plugins``: list discovered plugins without importing them."""
from __future__ import annotations

import argparse
import difflib
import sys
from typing import List, Tuple

import entrypoints

from .cli import add_debug_argument, run_tool
from .registries import CONFIG_KEYS_GROUP, REGISTRIES_GROUP, all_registries
from .registry import discover


def unknown_groups() -> List[Tuple[str, str]]:
    """``(group, distribution)`` for entry-point groups named ``sbcore.*`` that no registry reads
    (a typo such as ``sbcore.hook`` would otherwise hide a plugin without a word)."""
    known = {reg.group for reg in all_registries()} | {REGISTRIES_GROUP, CONFIG_KEYS_GROUP}
    found = []
    for config, distro in entrypoints.iter_files_distros():
        for group in config.sections():
            if group.startswith('sbcore.') and group not in known:
                found.append((group, getattr(distro, 'name', '<unknown distribution>')))
    return sorted(set(found))


def list_plugins(group_filter: str = '') -> int:
    rows = [('group', 'name', 'distribution', 'target')]
    conflicts = 0
    registries = all_registries()
    for reg in registries:
        if group_filter and group_filter not in reg.group:
            continue
        for name, specs in sorted(discover(reg.group).items()):
            conflicts += len(specs) > 1
            for s in specs:
                rows.append((s.group, s.name + (' (CONFLICT)' if len(specs) > 1 else ''),
                             s.distribution, s.target))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    try:
        for r in rows:
            print('  '.join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
        sys.stdout.flush()
    except BrokenPipeError:  # `python -m sbcore plugins | head`: the reader left, not an error
        sys.stdout = None
    for group, dist_name in unknown_groups():
        close = difflib.get_close_matches(group, [reg.group for reg in registries], n=1)
        hint = f'; did you mean {close[0]!r}?' if close else ''
        print(f'warning: distribution {dist_name} declares entry points in group {group!r}, which '
              f'no registry reads{hint}', file=sys.stderr)
    if conflicts:
        print(f'\n{conflicts} name(s) declared by more than one distribution', file=sys.stderr)
    return 1 if conflicts else 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog='python -m sbcore')
    sub = parser.add_subparsers(dest='command', required=True)
    p = sub.add_parser('plugins', help='list discovered plugins (group, name, distribution, target)')
    p.add_argument('--group', default='', help='only groups containing this text')
    add_debug_argument(p)
    args = parser.parse_args(argv)
    if args.command == 'plugins':
        return list_plugins(args.group)
    return 2


if __name__ == '__main__':
    sys.exit(run_tool(main, prog='python -m sbcore'))
