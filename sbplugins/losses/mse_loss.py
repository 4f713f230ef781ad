"""Heatmap MSE loss with per-joint target weights (the official JointsMSELoss)."""
from __future__ import annotations

import sbcore  # noqa: F401  (sets ONEDNN_MAX_CPU_ISA before MindSpore loads)
import mindspore
from mindspore import nn, ops


class KeypointMSELoss(nn.Cell):
    """``loss_weight * reduction_factor * mean over (B, K, H, W) of (w * (pred - gt))^2``.

    The weight w of each joint broadcasts over H and W; joints with w = 0 still count in the
    mean (reference doc, "Loss"). The default ``reduction_factor=0.5`` is the official
    SimpleBaseline loss; 1.0 gives MMPose's ``KeypointMSELoss`` scale (MMPose multiplies by w
    instead of w^2, which is the same for the usual 0/1 visibility weights).

    Args:
        use_target_weight: weight each joint by ``target_weight``; otherwise w = 1.
        loss_weight: overall multiplier.
        reduction_factor: 0.5 (official) or 1.0 (MMPose).

    ``construct(pred (B,K,H,W), gt (B,K,H,W), target_weight (B,K))`` -> scalar Tensor.
    """

    def __init__(self, use_target_weight: bool = True, loss_weight: float = 1.0,
                 reduction_factor: float = 0.5):
        super().__init__()
        self.use_target_weight = use_target_weight
        self.scale = float(loss_weight) * float(reduction_factor)

    def construct(self, pred: mindspore.Tensor, gt: mindspore.Tensor,
                  target_weight: mindspore.Tensor) -> mindspore.Tensor:
        diff = pred - gt
        if self.use_target_weight:
            diff = diff * ops.expand_dims(ops.expand_dims(target_weight, -1), -1)
        return ops.mean(diff * diff) * self.scale
