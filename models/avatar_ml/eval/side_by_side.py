"""The labelled side-by-side video: one 256x256 crop per method, a caption bar above each."""

from __future__ import annotations

import cv2
import numpy as np

BAR = 28


def labelled_tile(crop: np.ndarray, label: str) -> np.ndarray:
    bar = np.full((BAR, crop.shape[1], 3), 24, np.uint8)
    cv2.putText(bar, label, (6, BAR - 9), cv2.FONT_HERSHEY_SIMPLEX, 0.55, (255, 255, 255), 1, cv2.LINE_AA)
    return np.concatenate([bar, crop], axis=0)


def side_by_side_frames(columns: list[tuple[str, list[np.ndarray]]]) -> list[np.ndarray]:
    """columns: (label, crops per frame); all columns the same length."""
    n = len(columns[0][1])
    if any(len(c) != n for _, c in columns):
        raise ValueError("all columns need the same number of frames")
    return [np.concatenate([labelled_tile(c[t], label) for label, c in columns], axis=1) for t in range(n)]
