"""Benchmark: teacher seconds per frame at 512 and 256 on N CPU threads, with the plain 2D warp
measured in the same run as the baseline.

    npm run bench:teacher -- [--clip ../shared/media/d10.mp4] [--frames 60] [--threads 2]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

DEFAULT_CLIP = Path(__file__).resolve().parents[3] / ".." / "shared" / "media" / "d10.mp4"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="npm run bench:teacher --")
    p.add_argument("--clip", type=Path, default=DEFAULT_CLIP)
    p.add_argument("--frames", type=int, default=60)
    p.add_argument("--threads", type=int, default=2)
    a = p.parse_args(argv)
    import cv2
    import numpy as np
    import torch

    cv2.setNumThreads(a.threads)
    torch.set_num_threads(a.threads)
    from ..eval.baselines import Warp2DAvatar
    from ..landmarks.extractor import FaceLandmarkExtractor
    from ..landmarks.video_io import read_frames
    from .renderer import TeacherConfig, TeacherRenderer

    frames = read_frames(a.clip, a.frames)
    track = FaceLandmarkExtractor(threads=a.threads).track(frames)
    if not track.valid[0]:
        print("no face in frame 0", file=sys.stderr)
        return 1
    lm = track.landmarks[track.valid]
    print(f"clip {a.clip.name}: {len(lm)} driving frames, {a.threads} threads, {os.cpu_count()} CPUs visible")
    rows = []
    for size in (512, 256):
        for name, make in (
            ("teacher", lambda s: TeacherRenderer.create(frames[0], lm[0], config=TeacherConfig(out_size=s))),
            ("warp2d", lambda s: Warp2DAvatar(frames[0], lm[0], s)),
        ):
            t0 = time.perf_counter()
            avatar = make(size)
            onboard = time.perf_counter() - t0
            avatar.render(lm[:2])  # warm-up
            t0 = time.perf_counter()
            out = avatar.render(lm)
            spf = (time.perf_counter() - t0) / len(lm)
            assert out.shape == (len(lm), size, size, 3)
            rows.append((size, name, spf, onboard))
            print(f"  {name:8s} {size:4d}px  {spf:.4f} s/frame  ({1 / spf:5.1f} fps)  onboarding {onboard:.2f} s", flush=True)
    for size in (512, 256):
        t = next(r[2] for r in rows if r[0] == size and r[1] == "teacher")
        w = next(r[2] for r in rows if r[0] == size and r[1] == "warp2d")
        print(f"teacher/warp2d time ratio at {size}px: {t / w:.2f}x; target <= 1 s/frame at 512: "
              f"{'met' if size != 512 or t <= 1.0 else 'MISSED'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
