"""CLI: `npm run eval -- --model teacher --clip <mp4> [--source-frame N] [--driver <mp4>] [--frames 150] --out <dir>`."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from .registry import MODELS


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="npm run eval --", description="Evaluate a reenactment model against real frames and baselines.")
    p.add_argument("--model", required=True, help=f"registered: {', '.join(sorted(MODELS))}; or module:factory")
    p.add_argument("--clip", required=True, type=Path, help="source clip (mp4); its frames are the ground truth in self-reenactment")
    p.add_argument("--out", required=True, type=Path, help="output directory (metrics.json, side_by_side.mp4)")
    p.add_argument("--driver", type=Path, help="cross-reenactment: drive the clip's source frame with this clip's motion")
    p.add_argument("--driver-neutral", choices=["first", "closed-mouth"], default="closed-mouth",
                   help="cross-reenactment: the driver's retarget neutral frame, its first frame with the mouth closed "
                        "(default: a driver starting mid-word otherwise pushes the target's lips through each other "
                        "whenever it closes its mouth; the live server's calibration picks closed mouths too) or its "
                        "first valid frame (how cross rows were measured before 2026-11-30)")
    p.add_argument("--source-frame", type=int, default=0, help="frame of --clip used as the one-shot source (default 0)")
    p.add_argument("--frames", type=int, default=150, help="frames to evaluate (default 150)")
    p.add_argument("--size", type=int, default=512, help="render size (default 512)")
    p.add_argument("--crop", choices=["follow", "fixed"], default="follow", help="crop policy (default: head-following)")
    p.add_argument("--no-degraded", action="store_true", help="skip the degraded-source runs")
    p.add_argument("--degraded-stride", type=int, default=3, help="evaluate degraded sources on every Nth frame")
    p.add_argument("--identity-stride", type=int, default=5, help="identity embedding on every Nth frame")
    p.add_argument("--no-video", action="store_true", help="skip the side-by-side mp4")
    p.add_argument("--threads", type=int, default=2, help="CPU threads for torch/OpenCV (default 2)")
    p.add_argument("--train-fraction", type=float,
                   help="60/40 protocol (with --model student): train a student on this leading share of the "
                        "clip's frames, score every method on the rest; writes gates.json / gate_report.txt")
    p.add_argument("--student-preset", choices=["fast", "default"], default="default",
                   help="training preset of the student in the --train-fraction protocol")
    p.add_argument("--student-steps", type=int, help="training steps of that student (default: the preset's)")
    a = p.parse_args(argv)
    for flag in ("frames", "size", "degraded_stride", "identity_stride", "threads"):
        if getattr(a, flag) < 1:
            p.error(f"--{flag.replace('_', '-')} must be >= 1")
    if a.train_fraction is not None and not 0.05 <= a.train_fraction < 1:
        p.error("--train-fraction must be in [0.05, 1)")
    for path in [a.clip] + ([a.driver] if a.driver else []):
        if not path.is_file():
            p.error(f"no such file: {path}")
    return a


def main(argv: list[str] | None = None) -> int:
    a = parse_args(argv)
    import cv2
    import torch

    cv2.setNumThreads(a.threads)
    torch.set_num_threads(a.threads)
    from ..landmarks.video_io import VideoError
    from .harness import EvalOptions, evaluate

    try:
        result = evaluate(EvalOptions(
            model=a.model, clip=a.clip, out=a.out, driver=a.driver, driver_neutral=a.driver_neutral, source_frame=a.source_frame,
            frames=a.frames, out_size=a.size, crop=a.crop, degraded=not a.no_degraded,
            degraded_stride=a.degraded_stride, identity_stride=a.identity_stride, video=not a.no_video,
            train_fraction=a.train_fraction, student_preset=a.student_preset, student_steps=a.student_steps,
            threads=a.threads,
        ))
    except (ValueError, VideoError, RuntimeError) as e:  # bad input: a clear message, no traceback
        print(f"eval: error: {e}", file=sys.stderr)
        return 2
    drop = {"per_frame", "note", "akd_excluded_frames", "training"}
    summary = {k: {m: v for m, v in row.items() if m not in drop} for k, row in result["methods"].items()}
    line = {"out": str(a.out), "mode": result["mode"], "methods": summary}
    if "gates" in result:
        line["publishable"] = result["gates"]["passed"]
    print(json.dumps(line, indent=1))
    return 0


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    sys.exit(main())
