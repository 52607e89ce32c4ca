"""Diagnostic: how much SSIM a one-frame warp could reach if it knew the true motion.

    PYTHONPATH=models models/.venv/bin/python -m avatar_ml.eval.ceiling --clip ../shared/media/d12.mp4 \
        [--clip ...] [--frames 150] [--stride 10] [--json out.json]

Per clip, on the harness's head-following 256 crop and SSIM, every `stride`-th frame:
- `oracle_warp`: the source frame warped by the *true* dense motion, OpenCV's DIS optical flow from
  the real frame t back to frame 0. No landmark-driven model can know this motion; it is a ceiling
  for any renderer that moves the pixels of one source frame (it also shows what grain costs).
- `previous_frame`: the real frame t-1 scored against frame t: one frame of motion plus fresh grain.
- `follow`: for hair, neck/torso and background, the least-squares fraction of the head's rigid 2D
  motion (similarity on skull-fixed landmarks) that the true motion follows there. ~0: the region
  stays put; ~1: it moves rigidly with the head. Background far from 0 means the camera moves with
  the person (hand-held, or an operator following), which a steady-background renderer cannot show.
Not part of the yardstick (metrics.json comes from `avatar_ml.eval` only).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import cv2
import numpy as np
from skimage.metrics import structural_similarity

from ..teacher.flow import similarity_fit
from ..teacher.topology import RIGID_LANDMARKS
from .crop import apply_crop
from .regions import region_masks, tracked_clip

FOLLOW_REGIONS = ("hair", "neck", "background")


def true_backward_flow(frame_t: np.ndarray, source: np.ndarray) -> np.ndarray:
    """(H, W, 2): for each pixel of frame t, its displacement to where it came from in the source."""
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    gray = lambda f: cv2.cvtColor(f, cv2.COLOR_RGB2GRAY)
    return dis.calc(gray(frame_t), gray(source), None)


def warp_by_flow(source: np.ndarray, flow: np.ndarray) -> np.ndarray:
    h, w = flow.shape[:2]
    gy, gx = np.mgrid[0:h, 0:w].astype(np.float32)
    return cv2.remap(source, gx + flow[..., 0], gy + flow[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def rigid_head_flow(landmarks_t: np.ndarray, landmarks_0: np.ndarray, w: int, h: int) -> np.ndarray:
    """(H, W, 2) backward displacement if everything moved rigidly with the head (2D similarity)."""
    scale = np.array([w, h])
    a = landmarks_t[RIGID_LANDMARKS, :2] * scale
    b = landmarks_0[RIGID_LANDMARKS, :2] * scale
    m = similarity_fit(a, b)
    gy, gx = np.mgrid[0:h, 0:w].astype(np.float32)
    grid = np.stack([gx, gy], axis=-1)
    return grid @ m[:, :2].T + m[:, 2] - grid


def follow_fraction(true_flow: np.ndarray, rigid_flow: np.ndarray, mask: np.ndarray) -> float:
    """Least-squares alpha with true ≈ alpha · rigid over the mask (nan without rigid motion)."""
    t, r = true_flow[mask], rigid_flow[mask]
    den = float((r * r).sum())
    return float((t * r).sum() / den) if den > 1e-6 else float("nan")


def clip_ceiling(clip: Path, n_frames: int, stride: int, extractor) -> dict:
    frames, lm, valid, boxes = tracked_clip(clip, n_frames, extractor)
    h, w = frames.shape[1:3]
    ssim = lambda a, b: float(structural_similarity(a, b, channel_axis=2, data_range=255))
    oracle, previous = [], []
    follow: dict[str, list[float]] = {r: [] for r in FOLLOW_REGIONS}
    for t in range(stride, len(frames), stride):
        if not valid[t]:
            continue
        real = apply_crop(frames[t], boxes, t)
        flow = true_backward_flow(frames[t], frames[0])
        oracle.append(ssim(apply_crop(warp_by_flow(frames[0], flow), boxes, t), real))
        previous.append(ssim(apply_crop(frames[t - 1], boxes, t), real))
        rigid = rigid_head_flow(lm[t], lm[0], w, h)
        masks = region_masks(lm[t, :, :2] * np.array([w, h]), max(w, h))
        for r in FOLLOW_REGIONS:
            m = masks[r][:h, :w]
            if m.any():
                follow[r].append(follow_fraction(flow, rigid, m))
    return {
        "clip": clip.name,
        "frames": len(oracle),
        "oracle_warp_ssim": float(np.mean(oracle)),
        "previous_frame_ssim": float(np.mean(previous)),
        "follow": {r: float(np.nanmean(v)) if v else None for r, v in follow.items()},
    }


def main(argv: list[str] | None = None) -> None:
    from ..landmarks.extractor import FaceLandmarkExtractor

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--clip", type=Path, action="append", required=True, help="repeat for several clips")
    ap.add_argument("--frames", type=int, default=150)
    ap.add_argument("--stride", type=int, default=10)
    ap.add_argument("--json", type=Path, help="also write the results here")
    a = ap.parse_args(argv)
    extractor = FaceLandmarkExtractor()
    rows = []
    print("| clip | oracle warp SSIM | previous frame SSIM | hair follows | neck/torso follows | background follows |")
    print("|---|---|---|---|---|---|")
    for clip in a.clip:
        r = clip_ceiling(clip, a.frames, a.stride, extractor)
        rows.append(r)
        f = r["follow"]
        print(f"| {clip.stem} | {r['oracle_warp_ssim']:.3f} | {r['previous_frame_ssim']:.3f} | "
              + " | ".join(f"{f[k]:.2f}" if f[k] is not None else "-" for k in FOLLOW_REGIONS) + " |", flush=True)
    if len(rows) > 1:
        print(f"| mean | {np.mean([r['oracle_warp_ssim'] for r in rows]):.3f} | "
              f"{np.mean([r['previous_frame_ssim'] for r in rows]):.3f} | | | |")
    if a.json:
        a.json.write_text(json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    main()
