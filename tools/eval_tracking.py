"""Score tracked poses as PoseTrack 2018 does (poseval): per-joint mAP, MOTA, MOTP, ID switches.

    python tools/eval_tracking.py --gt data/synthetic_video/annotations/val/ --pred infer_out/
    python tools/eval_tracking.py --gt GT.json --pred PRED.json --out metrics.json

``--gt`` and ``--pred`` are PoseTrack 2018 files, or folders of per-video files paired by file
name. Predicted frames are matched to the ground truth by image id, or by frame order when the
predictions have other ids (e.g. ``tools/infer.py --track`` on a video without ``--ann-file``).
As poseval: ground-truth frames without persons are dropped with their predictions; the ground
truth's ignore regions (``ignore_regions_x`` / ``ignore_regions_y``) remove the joints inside them
from predictions and ground truth; MOTA leaves each video's last frame out and counts a frame left
with no ground-truth or no predicted person as one miss and one false positive per joint
(``--no-poseval-quirks``: every frame, real misses and false positives); lines say how many.
Prints the table (mAP, MOTA, MOTP, precision, recall, IDF1, ID switches per joint group and in
total, each the mean over the joints) and writes every figure, per joint too, as JSON (``--out``,
default ``<pred>_metrics.json``). The rules: ``sbplugins/metrics/posetrack_eval.py``; the files: ``posetrack_files.py``.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
from sbcore.cli import add_debug_argument, run_tool  # noqa: E402
from sbcore.fileio import atomic_write_text  # noqa: E402


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--gt', required=True, help='ground truth: a PoseTrack 2018 file or folder')
    p.add_argument('--pred', required=True, help='predictions: a PoseTrack 2018 file or folder')
    p.add_argument('--pck-thr', type=float, default=0.5,
                   help='a joint matches within this fraction of the head size (PCKh, 0.5)')
    p.add_argument('--no-poseval-quirks', action='store_true',
                   help="MOTA over every frame, a frame without ground-truth or predicted persons "
                        "with its real misses and false positives (poseval: last frame of each "
                        "video left out, such a frame one miss and one false positive per joint)")
    p.add_argument('--out', help='metrics JSON (default: next to --pred, *_metrics.json)')
    add_debug_argument(p)
    args = p.parse_args(argv)
    from sbplugins.metrics.posetrack_files import evaluate_files, format_table
    result = evaluate_files(args.gt, args.pred, pck_thr=args.pck_thr,
                            poseval_quirks=not args.no_poseval_quirks)
    print(f'{len(result["videos"])} video(s), PCKh@{args.pck_thr}, {len(result["per_joint"])} joints')
    fr = result['frames']
    print(f'{fr["scored"]} frame(s) scored; {fr["dropped_no_gt"]} without ground-truth persons '
          f'dropped ({fr["dropped_predictions"]} predicted persons in them); MOTA: '
          + (f'{fr["mot_left_out"]} last frame(s) left out, {fr["placeholder"]} frame(s) with no '
             f'ground truth or no prediction counted as one miss and one false positive per joint'
             if result['poseval_quirks'] else 'every frame scored (--no-poseval-quirks)'))
    ign = result['ignored']
    print(f'ignore regions in {ign["frames_with_regions"]} frame(s): ignored '
          f'{ign["pred_keypoints"]} predicted keypoints ({ign["pred_persons"]} persons dropped '
          f'whole) and {ign["gt_keypoints"]} ground-truth keypoints ({ign["gt_persons"]} persons)')
    print(format_table(result))
    out = args.out or (os.path.join(args.pred, 'tracking_metrics.json') if os.path.isdir(args.pred)
                       else os.path.splitext(args.pred)[0] + '_metrics.json')
    atomic_write_text(out, json.dumps(strict_json(result), indent=1, allow_nan=False) + '\n')
    print(f'metrics written to {out}')
    return 0


def strict_json(value):
    """``value`` with NaN figures (a joint never annotated has none) as null: NaN is not JSON."""
    if isinstance(value, dict):
        return {k: strict_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [strict_json(v) for v in value]
    return None if isinstance(value, float) and math.isnan(value) else value

if __name__ == '__main__':
    sys.exit(run_tool(main))
