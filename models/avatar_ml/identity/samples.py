"""Evenly spaced frames of a clip (or an image), for the identity figures and tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from avatar_ml.landmarks.video_io import iter_frames, probe, read_image


def sample_frames(path: str | Path, count: int) -> list[tuple[int, np.ndarray]]:
    """`count` (index, RGB uint8 frame) pairs spread over the clip, first frame included, upright
    and with square pixels (video_io's reader). An image file gives its one frame."""
    path = Path(path)
    info = probe(path)
    if info.is_image:
        return [(0, read_image(path))]
    total = info.frames if info.frames is not None else sum(1 for _ in iter_frames(path))
    wanted = sorted({int(round(i)) for i in np.linspace(0, max(total - 1, 0), count)})
    # ffmpeg's select filter keeps only the wanted frames, so the rest are decoded but never
    # converted to RGB or piped (a 450-frame clip costs ~1 s instead of ~10 s).
    expr = "+".join(f"eq(n\\,{i})" for i in wanted)
    frames = list(iter_frames(path, select=expr))
    # nb_frames can overstate the decodable frames; keep the ones that came back, in order.
    return [(index, frame.copy()) for index, frame in zip(wanted, frames)]
