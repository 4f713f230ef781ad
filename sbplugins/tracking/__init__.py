"""Pose tracking in video as in Simple Baselines (Xiao et al., ECCV 2018), section 3.

- ``flow.DenseFlow``: dense optical flow between consecutive frames (OpenCV DIS or Farneback,
  standing in for the paper's FlowNet2-S).
- ``similarity``: box IoU and OKS pose similarity (flow-based when the previous poses are warped).
- ``matching.greedy_match``: highest similarity first.
- ``pose_tracker``: the tracker plugins (``FlowPoseTracker``, ``OKSTracker``, ``IoUTracker``).
- ``posetrack``: reading and writing the PoseTrack 2018 JSON format.
"""
from .pose_tracker import FlowPoseTracker, IoUTracker, OKSTracker, PoseTracker, build_tracker

__all__ = ['PoseTracker', 'FlowPoseTracker', 'OKSTracker', 'IoUTracker', 'build_tracker']
