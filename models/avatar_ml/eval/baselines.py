"""Baselines measured in every run: the static source frame, and a plain 2D piecewise-affine warp
of 154 contour landmarks plus 8 frame-border anchors (Delaunay triangulation of the source)."""

from __future__ import annotations

import cv2
import numpy as np
from scipy.spatial import Delaunay

from ..teacher.raster import backward_map, triangle_affines, triangle_id_map
from ..teacher.topology import WARP2D_LANDMARKS


def _resize_square(rgb: np.ndarray, size: int) -> np.ndarray:
    if rgb.shape[0] == size:
        return rgb.copy()
    return cv2.resize(rgb, (size, size), interpolation=cv2.INTER_AREA if rgb.shape[0] > size else cv2.INTER_CUBIC)


class StaticAvatar:
    """Ignores the motion on purpose: the 'no motion' reference point."""

    def __init__(self, source_rgb: np.ndarray, source_landmarks: np.ndarray, out_size: int) -> None:
        self.frame = _resize_square(source_rgb, out_size)

    def render(self, driving: np.ndarray) -> np.ndarray:
        return np.repeat(self.frame[None], len(driving), axis=0)


class Warp2DAvatar:
    def __init__(self, source_rgb: np.ndarray, source_landmarks: np.ndarray, out_size: int) -> None:
        self.size = out_size
        self.source = _resize_square(source_rgb, out_size)
        s = out_size
        border = np.array(
            [[0, 0], [0.5, 0], [1, 0], [1, 0.5], [1, 1], [0.5, 1], [0, 1], [0, 0.5]], np.float32
        ) * s - 0.5
        self.border = border
        self.src_pts = np.concatenate([source_landmarks[WARP2D_LANDMARKS, :2] * s - 0.5, border])
        self.triangles = Delaunay(self.src_pts).simplices.astype(np.int32)

    def render(self, driving: np.ndarray) -> np.ndarray:
        out = []
        s = self.size
        for lm in driving:
            dst = np.concatenate([lm[WARP2D_LANDMARKS, :2] * s - 0.5, self.border])
            ids = triangle_id_map(dst, self.triangles, (s, s))
            m, mask = backward_map(ids, triangle_affines(dst, self.src_pts, self.triangles))
            gy, gx = np.mgrid[0:s, 0:s].astype(np.float32)
            mx = np.where(mask, m[..., 0], gx)
            my = np.where(mask, m[..., 1], gy)
            out.append(cv2.remap(self.source, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE))
        return np.stack(out)
