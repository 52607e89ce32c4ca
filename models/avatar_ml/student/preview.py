"""CLI: `python -m avatar_ml.student.preview --model <dir> --clip <mp4> --out <mp4> [--from-frame N] [--frames K]`.

A side-by-side video, real | student, of the clip's frames from N on (e.g. the held-out tail), both
in the identity's reference square at 256x256: the clip's own landmarks (this repo's VIDEO-mode
tracker, as the browser sends them) drive the exported ONNX student through onnxruntime.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m avatar_ml.student.preview")
    p.add_argument("--model", required=True, type=Path)
    p.add_argument("--clip", required=True, type=Path)
    p.add_argument("--out", required=True, type=Path)
    p.add_argument("--from-frame", type=int, default=0)
    p.add_argument("--frames", type=int, default=150)
    p.add_argument("--crf", type=int, default=26)
    a = p.parse_args(argv)
    import cv2

    from ..landmarks.extractor import FaceLandmarkExtractor
    from ..landmarks.video_io import probe, read_frames, write_video
    from .avatar import StudentAvatar

    info = probe(a.clip)
    frames = read_frames(a.clip, a.from_frame + a.frames)
    track = FaceLandmarkExtractor(threads=1).track(frames, fps=info.fps)
    avatar = StudentAvatar(a.model, frames[0], frames.shape[1], threads=1)
    out = []
    for t in range(a.from_frame, len(frames)):
        if not track.valid[t]:
            continue
        real = avatar.ref.crop(frames[t], 256)
        fake = avatar.render_reference(avatar.ref.to_reference(track.landmarks[t]))
        tile = np.concatenate([real, fake], axis=1)
        cv2.putText(tile, "real", (6, 18), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 1, cv2.LINE_AA)
        cv2.putText(tile, "student", (262, 18), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 1, cv2.LINE_AA)
        out.append(tile)
    write_video(a.out, out, fps=info.fps, crf=a.crf)
    print(f"wrote {a.out} ({len(out)} frames)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    sys.exit(main())
