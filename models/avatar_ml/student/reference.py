"""The identity's reference image: the square around the face that the student renders.

The student's output is a head-and-shoulders square, not the whole source frame: a face occupying
part of a 512x512 clip would otherwise get a fraction of the 256 output pixels. The square is
centred on the neutral face-oval box, `REFERENCE_FACTOR` times its larger side, shifted to stay inside
the source where it fits (shrunk to the source's shorter side where it does not). Landmarks given
to the student are normalised to this square (the manifest's `identity.imageSize`); `to_reference`
and `from_reference` map landmarks between the source frame and the square.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ..teacher.topology import FACE_OVAL

REFERENCE_FACTOR = 1.9


@dataclass(frozen=True)
class ReferenceSquare:
    x0: float  # top-left corner in source pixels
    y0: float
    side: float  # source pixels
    frame_width: int
    frame_height: int

    def to_reference(self, lm: np.ndarray) -> np.ndarray:
        """(..., 478, 3) landmarks normalised to the source frame -> normalised to the square."""
        lm = np.asarray(lm, np.float32)
        out = np.empty_like(lm)
        out[..., 0] = (lm[..., 0] * self.frame_width - self.x0) / self.side
        out[..., 1] = (lm[..., 1] * self.frame_height - self.y0) / self.side
        out[..., 2] = lm[..., 2] * self.frame_width / self.side  # z is in x's scale
        return out

    def from_reference(self, lm: np.ndarray) -> np.ndarray:
        lm = np.asarray(lm, np.float32)
        out = np.empty_like(lm)
        out[..., 0] = (lm[..., 0] * self.side + self.x0) / self.frame_width
        out[..., 1] = (lm[..., 1] * self.side + self.y0) / self.frame_height
        out[..., 2] = lm[..., 2] * self.side / self.frame_width
        return out

    def crop(self, frame: np.ndarray, size: int) -> np.ndarray:
        """The square of `frame` resampled to size x size (black outside the frame)."""
        s = size / self.side
        m = np.array([[s, 0, -self.x0 * s], [0, s, -self.y0 * s]], np.float64)
        interp = cv2.INTER_AREA if self.side > size else cv2.INTER_LINEAR
        if interp == cv2.INTER_AREA:  # warpAffine has no area filter: crop, then resize
            x0, y0, side = int(round(self.x0)), int(round(self.y0)), int(round(self.side))
            h, w = frame.shape[:2]
            pad = max(0, -x0, -y0, x0 + side - w, y0 + side - h)
            if pad:
                frame = cv2.copyMakeBorder(frame, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=0)
            region = frame[y0 + pad : y0 + pad + side, x0 + pad : x0 + pad + side]
            return cv2.resize(region, (size, size), interpolation=cv2.INTER_AREA)
        return cv2.warpAffine(frame, m, (size, size), flags=interp, borderMode=cv2.BORDER_CONSTANT)

    def as_dict(self) -> dict:
        return {"x0": round(self.x0, 3), "y0": round(self.y0, 3), "side": round(self.side, 3),
                "frame_width": self.frame_width, "frame_height": self.frame_height}

    @staticmethod
    def from_dict(d: dict) -> "ReferenceSquare":
        return ReferenceSquare(float(d["x0"]), float(d["y0"]), float(d["side"]), int(d["frame_width"]),
                               int(d["frame_height"]))


def reference_square(neutral: np.ndarray, width: int, height: int, factor: float = REFERENCE_FACTOR) -> ReferenceSquare:
    """The square for neutral landmarks (478,3) normalised to a width x height source."""
    p = np.asarray(neutral)[FACE_OVAL, :2] * np.array([width, height])
    lo, hi = p.min(axis=0), p.max(axis=0)
    c = (lo + hi) / 2
    side = min(factor * float(np.max(hi - lo)), float(min(width, height)))
    side = float(int(side))  # whole pixels: the crop is exact
    x0 = float(np.clip(round(c[0] - side / 2), 0, width - side))
    y0 = float(np.clip(round(c[1] - side / 2 + 0.05 * side), 0, height - side))  # a little more chin/neck than hair
    return ReferenceSquare(x0, y0, side, width, height)
