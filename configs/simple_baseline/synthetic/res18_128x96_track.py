"""The main job's model (res18_128x96.py) tracking people in the synthetic video clips.

    python tools/generate_synthetic.py --clips --out data/synthetic_video
    python tools/infer.py --config configs/simple_baseline/synthetic/res18_128x96_track.py \
        --ckpt work_dirs/quickstart/epoch_20.ckpt --input data/synthetic_video/videos/000003_crossing.mp4 --track
    python tools/eval_tracking.py --gt data/synthetic_video/annotations/val/000003_crossing.json \
        --pred infer_out/000003_crossing.json

Boxes come from OpenCV's HOG people detector unless --bboxes gives a detection file (the clips'
jittered ground-truth boxes: --bboxes data/synthetic_video/person_detection_results/<seq>.json
--ann-file data/synthetic_video/annotations/val/<seq>.json). docs/tracking.md has the measurements.
"""
_base_ = ['./res18_128x96.py']
# The HOG window is 64x128 px: the clips' people (130-175 px tall at 320x256) fit it at scale 1.
detector = dict(type='OpenCVPeopleDetector', win_stride=(4, 4), padding=(8, 8), scale=1.05,
                score_thr=0.0)
# The paper's tracker and thresholds: boxes < 0.5 and joints < 0.4 dropped, box enlarged by 15 %.
tracker = dict(type='FlowPoseTracker', bbox_thr=0.5, joint_thr=0.4, propagate_enlarge=0.15,
               queue_len=5, flow=dict(method='dis', preset='fast'))
