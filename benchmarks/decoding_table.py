"""The README's decoding table: the main job's recipe trained with each target (official, DARK,
UDP), each checkpoint decoded several ways, on the synthetic val split (detection boxes, flip test).

    python benchmarks/decoding_table.py --official-dir work_dirs/quickstart --out-dir work_dirs/decoding

``--official-dir`` is a finished main job (``python tools/quickstart.py``); the DARK and UDP
recipes are trained into ``--out-dir`` unless their final checkpoint is already there. Every cell
is one ``tools/eval.py`` run; the table (AP / AP .75 / AR) is printed as Markdown and written to
``<out-dir>/decoding_table.md``.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

RECIPES = 'configs/simple_baseline/synthetic'
# (training target, its recipe, [(decoding shown, --cfg-options of the evaluation)])
ROWS = [
    ('official (MSRA)', 'res18_128x96.py', [
        ('official quarter-pixel (default)', []),
        ('plain argmax', ['model.codec.refine=none']),
        ("DARK (`refine='dark'`)", ['model.codec.refine=dark'])]),
    ('DARK unbiased', 'res18_128x96_dark.py', [
        ('official quarter-pixel', ['model.codec.unbiased=False', 'model.codec.refine=official']),
        ('DARK (`unbiased=True`)', [])]),
    ('UDP', 'res18_128x96_udp.py', [
        ('plain argmax', ['model.codec.refine=none']),
        ('UDP (`UDPHeatmap`, its Newton step)', [])]),
]
EPOCHS = (10, 20)


def run(cmd) -> None:
    print('+', ' '.join(map(str, cmd)), flush=True)
    subprocess.run([str(c) for c in cmd], check=True)


def evaluate(config: str, ckpt: Path, options, work_dir: Path) -> str:
    if not (work_dir / 'metrics.json').is_file():
        cmd = [sys.executable, 'tools/eval.py', config, ckpt, '--work-dir', work_dir]
        run(cmd + (['--cfg-options', *options] if options else []))
    m = json.loads((work_dir / 'metrics.json').read_text())
    return f'{m["coco/AP"]:.3f} / {m["coco/AP .75"]:.3f} / {m["coco/AR"]:.3f}'


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--official-dir', type=Path, default=Path('work_dirs/quickstart'))
    p.add_argument('--out-dir', type=Path, default=Path('work_dirs/decoding'))
    args = p.parse_args(argv)
    lines = ['| training target | decoding | ' + ' | '.join(f'{e} epochs' for e in EPOCHS) + ' |',
             '|---|---|' + '---|' * len(EPOCHS)]
    for target, recipe, decodings in ROWS:
        config = f'{RECIPES}/{recipe}'
        train_dir = args.official_dir if recipe == 'res18_128x96.py' else args.out_dir / recipe[:-3]
        if not (train_dir / f'epoch_{EPOCHS[-1]}.ckpt').is_file():
            run([sys.executable, 'tools/train.py', config, '--work-dir', train_dir])
        for i, (decoding, options) in enumerate(decodings):
            cells = [evaluate(config, train_dir / f'epoch_{e}.ckpt', options,
                              args.out_dir / 'eval' / f'{recipe[:-3]}_{i}_epoch{e}') for e in EPOCHS]
            lines.append(f'| {target} | {decoding} | ' + ' | '.join(cells) + ' |')
    table = '\n'.join(lines)
    (args.out_dir / 'decoding_table.md').write_text(table + '\n')
    print(table)
    return 0


if __name__ == '__main__':
    sys.exit(main())
