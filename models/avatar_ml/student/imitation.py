"""Diagnostic: how well could a student that only imitates its teacher score on a clip's held-out frames?

    PYTHONPATH=models models/.venv/bin/python -m avatar_ml.student.imitation --clip ../shared/media/d12.mp4 \
        [--stride 2] [--train-fraction 0.6] [--student <dir> ...]

Self-reenactment from frame 0 with the harness's crop and SSIM, on every `stride`-th valid frame after
the `train-fraction` (the 60/40 protocol's held-out frames), for:
- `teacher 512 grabcut`: the teacher as the harness scores it (rendered at 512, resized to the frame);
- `teacher 256 <matte>`: the teacher the student is trained on — rendered at 256 in the student's
  reference square, with its GrabCut or the learned selfie matte — pasted into the frame exactly as
  the student's output is (`StudentAvatar`): the score of a perfect imitation, so the gap between a
  portrait student and this line is the student's imitation error, and between this line and the 512
  teacher what the 256 output and the matte cost;
- each `--student <dir>` (a trained student, as `--model student:<dir>` renders it).
Prints one line per method (mean SSIM, frames). Not part of the yardstick: tables come from `avatar_ml.eval`.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np


def main(argv: list[str] | None = None) -> None:
    from ..eval.crop import apply_crop
    from ..eval.metrics import ssim
    from ..eval.regions import tracked_clip
    from ..landmarks.extractor import FaceLandmarkExtractor
    from ..teacher import TeacherConfig, TeacherRenderer
    from .avatar import StudentAvatar
    from .network import OUT_SIZE
    from .reference import reference_square

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--clip", type=Path, required=True)
    ap.add_argument("--stride", type=int, default=2)
    ap.add_argument("--train-fraction", type=float, default=0.6)
    ap.add_argument("--size", type=int, default=512, help="the harness's render size")
    ap.add_argument("--student", type=Path, action="append", default=[])
    a = ap.parse_args(argv)
    frames, lm, valid, boxes = tracked_clip(a.clip, 750, FaceLandmarkExtractor(threads=1))
    n, h, w = frames.shape[:3]
    start = max(1, int(round(a.train_fraction * n)))
    idx = [t for t in range(start, n, a.stride) if valid[t]]
    real = [apply_crop(frames[t], boxes, t) for t in idx]
    print(f"{a.clip.name}: {n} frames, held-out {start}..{n - 1}, scoring {len(idx)} (every {a.stride})", flush=True)

    def to_frame(f: np.ndarray) -> np.ndarray:
        return f if f.shape[:2] == (h, w) else cv2.resize(f, (w, h), interpolation=cv2.INTER_AREA)

    def score(name: str, render) -> None:
        s = [ssim(apply_crop(to_frame(render(lm[t])), boxes, t), r) for t, r in zip(idx, real)]
        print(f"  {name:28s} SSIM {np.mean(s):.4f}", flush=True)

    teacher = TeacherRenderer.create(frames[0], lm[0], config=TeacherConfig(out_size=a.size))
    score("teacher 512 grabcut", teacher.render)

    ref = reference_square(lm[0], w, h)
    side, x0, y0 = int(round(ref.side)), int(round(ref.x0)), int(round(ref.y0))
    crop = ref.crop(frames[0], min(side, 512))
    for matte in ("grabcut", "selfie"):
        t256 = TeacherRenderer.create(crop, ref.to_reference(lm[0]), config=TeacherConfig(out_size=OUT_SIZE))
        if matte == "selfie":
            from ..teacher.matting import background_plate
            from .selfie_matte import SelfieMatte

            t256.alpha = SelfieMatte().alpha(t256.source)
            t256.background = background_plate(t256.source, t256.alpha,
                                               keep_below=t256.config.plate_keep_below).astype(np.float32)

        def pasted(driving: np.ndarray, t256=t256) -> np.ndarray:
            face = t256.render(ref.to_reference(driving))
            interp = cv2.INTER_CUBIC if side > OUT_SIZE else cv2.INTER_AREA
            patch = cv2.resize(face, (side, side), interpolation=interp)
            out = frames[0].copy()
            out[y0 : y0 + side, x0 : x0 + side] = patch[: h - y0, : w - x0]
            return out

        score(f"teacher 256 {matte} (pasted)", pasted)
    for d in a.student:
        sa = StudentAvatar(d, frames[0], w, 1)
        score(f"student {d.name}", lambda driving, sa=sa: sa.render(driving[None])[0])


if __name__ == "__main__":
    main()
