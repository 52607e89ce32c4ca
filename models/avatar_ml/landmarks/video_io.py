"""Video frames in and out through the ffmpeg binary (RGB uint8 arrays, h264 yuv420p mp4 out)."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np


class VideoError(RuntimeError):
    pass


@dataclass(frozen=True)
class VideoInfo:
    width: int
    height: int
    fps: float
    frames: int | None


def probe(path: str | Path) -> VideoInfo:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
         "stream=width,height,r_frame_rate,nb_frames", "-of", "json", str(path)],
        capture_output=True, text=True)
    if out.returncode != 0:
        raise VideoError(f"ffprobe failed on {path}: {out.stderr.strip()}")
    streams = json.loads(out.stdout).get("streams") or []
    if not streams:
        raise VideoError(f"{path}: no video stream")
    s = streams[0]
    nb = s.get("nb_frames")
    return VideoInfo(int(s["width"]), int(s["height"]), float(Fraction(s["r_frame_rate"])),
                     int(nb) if nb and str(nb).isdigit() else None)


def iter_frames(path: str | Path, max_frames: int | None = None) -> Iterator[np.ndarray]:
    """Yields decoded frames as (H,W,3) RGB uint8, in order, every frame (no frame-rate conversion)."""
    info = probe(path)
    cmd = ["ffmpeg", "-v", "error", "-nostdin", "-i", str(path), "-map", "0:v:0", "-vsync", "passthrough",
           "-f", "rawvideo", "-pix_fmt", "rgb24"]
    if max_frames is not None:
        cmd += ["-frames:v", str(max_frames)]
    proc = subprocess.Popen(cmd + ["-"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    size = info.width * info.height * 3
    try:
        assert proc.stdout is not None
        while True:
            buf = proc.stdout.read(size)
            if len(buf) < size:
                break
            yield np.frombuffer(buf, np.uint8).reshape(info.height, info.width, 3)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        if proc.stdout:
            proc.stdout.close()
        if proc.stderr:
            proc.stderr.close()


def read_frames(path: str | Path, max_frames: int | None = None) -> np.ndarray:
    """All frames of a clip as (T,H,W,3) RGB uint8."""
    frames = list(iter_frames(path, max_frames))
    if not frames:
        raise VideoError(f"{path}: no frames decoded")
    return np.stack(frames)


def read_image(path: str | Path) -> np.ndarray:
    """An image file (jpg/png) as (H,W,3) RGB uint8."""
    import cv2

    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if bgr is None:
        raise VideoError(f"cannot read image {path}")
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def write_video(path: str | Path, frames: Iterable[np.ndarray], fps: float, crf: int = 18) -> None:
    """Writes RGB uint8 frames (all the same size, even dimensions) as h264 yuv420p mp4."""
    it = iter(frames)
    first = next(it, None)
    if first is None:
        raise VideoError("no frames to write")
    h, w = first.shape[:2]
    cmd = ["ffmpeg", "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{w}x{h}",
           "-r", f"{fps:g}", "-i", "-", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-crf", str(crf),
           "-movflags", "+faststart", str(path)]
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdin is not None
    try:
        for frame in _chain(first, it):
            if frame.shape != first.shape or frame.dtype != np.uint8:
                raise VideoError("all frames must be uint8 with the same shape")
            proc.stdin.write(np.ascontiguousarray(frame).tobytes())
    finally:
        proc.stdin.close()
        err = proc.stderr.read().decode() if proc.stderr else ""
        rc = proc.wait()
        if proc.stderr:
            proc.stderr.close()
    if rc != 0:
        raise VideoError(f"ffmpeg failed writing {path}: {err.strip()}")


def _chain(first: np.ndarray, rest: Iterator[np.ndarray]) -> Iterator[np.ndarray]:
    yield first
    yield from rest
