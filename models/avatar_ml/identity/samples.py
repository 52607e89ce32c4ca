"""Evenly spaced frames of a clip (or an image), for the identity figures and tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from avatar_ml.landmarks.video_io import iter_frames, probe, read_image

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png"}


def sample_frames(path: str | Path, count: int) -> list[tuple[int, np.ndarray]]:
    """`count` (index, RGB uint8 frame) pairs spread over the clip, first frame included.
    An image file gives its one frame."""
    path = Path(path)
    if path.suffix.lower() in IMAGE_SUFFIXES:
        return [(0, read_image(path))]
    total = probe(path).frames
    if total is None:
        total = sum(1 for _ in iter_frames(path))
    wanted = sorted({int(round(i)) for i in np.linspace(0, max(total - 1, 0), count)})
    picked: list[tuple[int, np.ndarray]] = []
    for index, frame in enumerate(iter_frames(path, max_frames=wanted[-1] + 1)):
        if index in wanted:
            picked.append((index, frame.copy()))
    return picked
