"""Reference points for `npm run bench:student`, built and measured in the same run.

`python -m avatar_ml.student.bench_refs --out <dir> [--frames 20]` prints one JSON line:
  {"paper_onnx": path, "paper_gflops": float, "paper_params": int, "paper_width": float,
   "teacher_s_per_frame_256": float, "teacher_s_per_frame_512": float, "teacher_clip": "d10.mp4"}
- the paper-size student: this architecture with its conv channels widened (`width` 3.3) to about
  6 GFLOPs per frame, the size of the paper's student, exported the same way (random weights:
  only its speed is measured);
- the teacher's render time per frame (Python/OpenCV, 1 thread) on the motion library's d10 track,
  onboarded from d10's frame 0, at 256 and 512.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

PAPER_WIDTH = 3.3
MEDIA = Path(__file__).resolve().parents[3] / ".." / "shared" / "media"


def build_paper_size(out: Path, neutral: np.ndarray) -> dict:
    import torch

    from .export import export_onnx
    from .network import OUT_SIZE, StudentNet

    torch.manual_seed(0)
    net = StudentNet(neutral, width=PAPER_WIDTH).eval()
    net.bake(torch.rand(1, 3, OUT_SIZE, OUT_SIZE))
    info = export_onnx(net, out / "paper_size.onnx", neutral[None].astype(np.float32))
    return {"paper_onnx": str(info.path), "paper_gflops": round(info.flops / 1e9, 3), "paper_params": info.params,
            "paper_width": PAPER_WIDTH}


def teacher_speed(frames: int) -> dict:
    import cv2

    from ..landmarks.track_io import load_track
    from ..landmarks.video_io import read_frames
    from ..teacher import TeacherConfig, TeacherRenderer
    from .data import MOTION_LIBRARY

    cv2.setNumThreads(1)
    clip = (MEDIA / "d10.mp4").resolve()
    track = load_track(MOTION_LIBRARY / "d10.npz")
    src = read_frames(clip, 1)[0]
    out = {"teacher_clip": clip.name}
    for size in (256, 512):
        t = TeacherRenderer.create(src, track.landmarks[0], config=TeacherConfig(out_size=size))
        t.render(track.landmarks[1])
        t0 = time.perf_counter()
        for i in range(frames):
            t.render(track.landmarks[1 + i])
        out[f"teacher_s_per_frame_{size}"] = round((time.perf_counter() - t0) / frames, 4)
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m avatar_ml.student.bench_refs")
    p.add_argument("--out", required=True, type=Path)
    p.add_argument("--frames", type=int, default=20)
    p.add_argument("--no-teacher", action="store_true")
    a = p.parse_args(argv)
    import torch

    torch.set_num_threads(1)
    from ..landmarks.track_io import load_track
    from .data import MOTION_LIBRARY

    a.out.mkdir(parents=True, exist_ok=True)
    neutral = load_track(MOTION_LIBRARY / "d10.npz").landmarks[0]
    res = build_paper_size(a.out, neutral)
    if not a.no_teacher:
        res.update(teacher_speed(a.frames))
    print(json.dumps(res), flush=True)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    sys.exit(main())
