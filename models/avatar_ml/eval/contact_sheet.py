"""One picture of a results run: a frame of every clip's side-by-side video, stacked.

    PYTHONPATH=models models/.venv/bin/python -m avatar_ml.eval.contact_sheet \
        models/results/teacher_v1.2 [--frame 75] [--scale 0.75] [--out models/results/teacher_v1.2/contact_sheet.jpg]

Each row is frame `--frame` of `<run>/<clip>/side_by_side.mp4` (real | model | baselines, labelled by
the harness), with the clip's name and that frame's SSIM of the model from metrics.json; the
cross-reenactment runs (`cross_*`) are skipped (no real frames to compare with).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import cv2
import numpy as np

from ..landmarks.video_io import read_frames


def sheet_row(clip_dir: Path, frame: int, scale: float) -> np.ndarray:
    frames = read_frames(clip_dir / "side_by_side.mp4", frame + 1)
    img = frames[min(frame, len(frames) - 1)]
    img = cv2.resize(img, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    metrics = json.loads((clip_dir / "metrics.json").read_text())
    # `student:<dir>` is scored under the method name "student"; a plug-in `pkg.mod:factory` under its full name
    name = metrics["model"] if metrics["model"] in metrics["methods"] else metrics["model"].split(":", 1)[0]
    per_frame = metrics["methods"][name]["per_frame"]["ssim"]
    ssim = per_frame[frame] if frame < len(per_frame) and per_frame[frame] is not None else float("nan")
    label = f"{clip_dir.name}  frame {frame}  {name} SSIM {ssim:.3f}"
    bar = np.full((22, img.shape[1], 3), 20, np.uint8)
    cv2.putText(bar, label, (6, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (235, 235, 235), 1, cv2.LINE_AA)
    return np.concatenate([bar, img], axis=0)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("run", type=Path, help="a results folder with one sub-folder per clip")
    ap.add_argument("--frame", type=int, default=75)
    ap.add_argument("--scale", type=float, default=0.75)
    ap.add_argument("--out", type=Path, help="default: <run>/contact_sheet.jpg")
    a = ap.parse_args(argv)
    clips = sorted(d for d in a.run.iterdir() if (d / "side_by_side.mp4").exists() and not d.name.startswith("cross_"))
    if not clips:
        raise SystemExit(f"no <clip>/side_by_side.mp4 under {a.run}")
    sheet = np.concatenate([sheet_row(d, a.frame, a.scale) for d in clips], axis=0)
    out = a.out or a.run / "contact_sheet.jpg"
    cv2.imwrite(str(out), cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 82])
    print(f"{out}: {len(clips)} clips, {sheet.shape[1]}x{sheet.shape[0]}")


if __name__ == "__main__":
    main()
