"""Box, affine and flip geometry: the one place for this math in sbpose.

Conventions (SimpleBaseline, see reference doc, "Boxes, affine transform"),
each stated again in the module that codes it:

- ``boxes.py``: boxes are ``xywh`` in image pixels; a box's *scale* is its (aspect-fixed, padded)
  size in units of ``pixel_std`` = 200 pixels. Center/scale, clipping, IoU, NMS, a pose's box.
- ``affine.py``: the affine maps the box center to the crop center; only the scale's width ``s_w``
  sets the zoom (the height is implied by the fixed aspect ratio). The official and UDP affines,
  points through them, crop -> image.
- ``flip.py``: horizontal flip maps ``x -> W - 1 - x`` (pixel centers, not edges). Keypoints,
  heatmaps, flip indices.

sbplugins' own modules import the module that holds a name; this package's names stay importable
from ``sbplugins.utils.geometry`` for plugins outside sbplugins.
"""
from sbplugins.utils.geometry.affine import (affine_points, crop_to_image, get_affine_transform,
                                             get_udp_affine_transform)
from sbplugins.utils.geometry.boxes import (PIXEL_STD, bbox_iou_xywh, bbox_xywh_to_center_scale,
                                            clip_bbox_xywh, fix_aspect_ratio, keypoints_bbox_xywh,
                                            nms_boxes)
from sbplugins.utils.geometry.flip import flip_heatmaps, flip_indices_from_pairs, flip_keypoints

__all__ = ['PIXEL_STD', 'affine_points', 'bbox_iou_xywh', 'bbox_xywh_to_center_scale',
           'clip_bbox_xywh', 'crop_to_image', 'fix_aspect_ratio', 'flip_heatmaps',
           'flip_indices_from_pairs', 'flip_keypoints', 'get_affine_transform',
           'get_udp_affine_transform', 'keypoints_bbox_xywh', 'nms_boxes']
