"""Evenly spaced frames of a clip (or an image), for the identity figures and tests."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np

from avatar_ml.landmarks.video_io import VideoError, iter_frames, probe, read_image

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png"}


def sample_frames(path: str | Path, count: int) -> list[tuple[int, np.ndarray]]:
    """`count` (index, RGB uint8 frame) pairs spread over the clip, first frame included.
    An image file gives its one frame."""
    path = Path(path)
    if path.suffix.lower() in IMAGE_SUFFIXES:
        return [(0, read_image(path))]
    info = probe(path)
    total = info.frames if info.frames is not None else sum(1 for _ in iter_frames(path))
    wanted = sorted({int(round(i)) for i in np.linspace(0, max(total - 1, 0), count)})
    # ffmpeg's select filter keeps only the wanted frames, so the rest are decoded but never
    # converted to RGB or piped (a 450-frame clip costs ~1 s instead of ~10 s).
    expr = "+".join(f"eq(n\\,{i})" for i in wanted)
    cmd = ["ffmpeg", "-v", "error", "-nostdin", "-i", str(path), "-map", "0:v:0",
           "-vf", f"select={expr}", "-vsync", "passthrough", "-f", "rawvideo", "-pix_fmt", "rgb24",
           "-"]
    proc = subprocess.run(cmd, capture_output=True, check=False)
    if proc.returncode != 0:
        raise VideoError(f"ffmpeg failed on {path}: {proc.stderr.decode(errors='replace')[-500:]}")
    size = info.width * info.height * 3
    n = len(proc.stdout) // size
    frames = np.frombuffer(proc.stdout[: n * size], np.uint8).reshape(n, info.height, info.width, 3)
    # nb_frames can overstate the decodable frames; keep the ones that came back, in order.
    return [(index, frames[k].copy()) for k, index in enumerate(wanted[:n])]
