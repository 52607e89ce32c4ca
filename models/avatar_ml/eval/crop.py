"""Crop policy of the harness: a head-following square crop, smoothed over time.

For each frame the crop is centred on the face-oval bounding-box centre of the *reference*
landmarks (the real frame's re-detected landmarks in self-reenactment, the retargeted driving
landmarks in cross-reenactment), smoothed with a Gaussian over time (sigma 2 frames) so landmark
jitter does not shake it. Its side is fixed for the whole clip: 1.5x the larger side of the face
oval's bounding box in the source frame (face, hairline, chin, a little neck). Regions outside the
frame are black. Every method is cropped with the same boxes and resized to 256x256 (INTER_AREA).

`fixed` is the calibration policy from the issue: the source frame's box for every frame.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from scipy.ndimage import gaussian_filter1d

from ..teacher.topology import FACE_OVAL

CROP_SIZE = 256
SIDE_FACTOR = 1.5
SMOOTH_SIGMA_FRAMES = 2.0


@dataclass(frozen=True)
class CropBoxes:
    x0: np.ndarray  # (T,) float, top-left corner in frame pixels
    y0: np.ndarray
    side: float  # frame pixels

    def to_crop(self, pts_px: np.ndarray, t: int) -> np.ndarray:
        """Maps (..., 2) frame-pixel points of frame t into crop pixels."""
        s = CROP_SIZE / self.side
        return (pts_px - np.array([self.x0[t], self.y0[t]])) * s


def _oval_box(lm: np.ndarray, w: int, h: int) -> tuple[np.ndarray, float]:
    p = lm[FACE_OVAL, :2] * np.array([w, h])
    lo, hi = p.min(axis=0), p.max(axis=0)
    return (lo + hi) / 2, float(np.max(hi - lo))


def _fill_invalid(x: np.ndarray, valid: np.ndarray) -> np.ndarray:
    idx = np.arange(len(x))
    if valid.all():
        return x
    return np.stack([np.interp(idx, idx[valid], x[valid, k]) for k in range(x.shape[1])], axis=1)


def crop_boxes(
    ref_landmarks: np.ndarray, valid: np.ndarray, source_landmarks: np.ndarray, width: int, height: int,
    policy: str = "follow",
) -> CropBoxes:
    _, size = _oval_box(source_landmarks, width, height)
    side = SIDE_FACTOR * size
    if policy == "fixed":
        c, _ = _oval_box(source_landmarks, width, height)
        centres = np.repeat(c[None], len(valid), axis=0)
    elif policy == "follow":
        if not valid.any():
            raise ValueError("no valid reference landmarks to follow")
        centres = np.zeros((len(valid), 2))
        for t in np.nonzero(valid)[0]:
            centres[t], _ = _oval_box(ref_landmarks[t], width, height)
        centres = _fill_invalid(centres, valid)
        centres = gaussian_filter1d(centres, SMOOTH_SIGMA_FRAMES, axis=0, mode="nearest")
    else:
        raise ValueError(f"unknown crop policy {policy!r} (follow | fixed)")
    return CropBoxes(centres[:, 0] - side / 2, centres[:, 1] - side / 2, side)


def apply_crop(frame: np.ndarray, boxes: CropBoxes, t: int) -> np.ndarray:
    """256x256 crop of frame t; the box may leave the frame (black outside)."""
    h, w = frame.shape[:2]
    x0, y0 = int(round(boxes.x0[t])), int(round(boxes.y0[t]))
    side = int(round(boxes.side))
    pad = max(0, -x0, -y0, x0 + side - w, y0 + side - h)
    if pad:
        frame = cv2.copyMakeBorder(frame, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=0)
        x0, y0 = x0 + pad, y0 + pad
    region = frame[y0 : y0 + side, x0 : x0 + side]
    interp = cv2.INTER_AREA if side > CROP_SIZE else cv2.INTER_CUBIC
    return cv2.resize(region, (CROP_SIZE, CROP_SIZE), interpolation=interp)
