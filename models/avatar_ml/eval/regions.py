"""Diagnostic: where a model loses SSIM against the real frames, split by face region.

    PYTHONPATH=models models/.venv/bin/python -m avatar_ml.eval.regions --clip ../shared/media/d12.mp4 \
        [--clip ...] [--models teacher,warp2d,pkg.module:factory] [--frames 150] [--stride 5]

With several clips it also prints the mean over them (a quick way to compare variants of a model).

Self-reenactment with the harness's own crop policy and SSIM (scikit-image defaults, `full=True` for
the per-pixel map), averaged per region of the real frame's landmarks: face interior (without mouth and
eyes), mouth, eyes, hair (a band of half a face height around the face oval, higher than 0.3 face
heights over the chin), neck/torso (below that, within 0.7 face heights of the chin's vertical), and
background (the rest). `loss` is area × (1 − SSIM): the region's share of the crop's SSIM deficit.
Not part of the yardstick: metrics.json and the results tables come from `avatar_ml.eval` only.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np
from skimage.metrics import structural_similarity

from ..teacher.topology import FACE_OVAL
from .crop import CROP_SIZE, CropBoxes, apply_crop, crop_boxes
from .registry import resolve_model

LIPS_OUTER = [61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291, 409, 270, 269, 267, 0, 37, 39, 40, 185]
EYE_R = [33, 7, 163, 144, 145, 153, 154, 155, 133, 173, 157, 158, 159, 160, 161, 246]
EYE_L = [362, 382, 381, 380, 374, 373, 390, 249, 263, 466, 388, 387, 386, 385, 384, 398]
REGIONS = ("face", "mouth", "eyes", "hair", "neck", "background")


def region_masks(crop_px: np.ndarray, size: int = CROP_SIZE) -> dict[str, np.ndarray]:
    """Boolean (size, size) masks from (478, 2) landmarks in crop pixels."""

    def poly(idx, grow: int = 0) -> np.ndarray:
        m = np.zeros((size, size), np.uint8)
        cv2.fillPoly(m, [np.round(crop_px[idx]).astype(np.int32)], 1)
        if grow:
            m = cv2.dilate(m, np.ones((2 * grow + 1,) * 2, np.uint8))
        return m > 0

    face = poly(FACE_OVAL)
    mouth = poly(LIPS_OUTER, 4) & face
    eyes = (poly(EYE_R, 4) | poly(EYE_L, 4)) & face
    fh = float(np.linalg.norm(crop_px[10] - crop_px[152]))
    up = (crop_px[10] - crop_px[152]) / max(fh, 1e-6)
    gy, gx = np.mgrid[0:size, 0:size]
    rel = np.stack([gx, gy], axis=-1) - crop_px[152]
    height = rel @ up / max(fh, 1e-6)
    side = np.abs(rel @ np.array([-up[1], up[0]])) / max(fh, 1e-6)
    k = int(0.5 * fh) | 1
    band = (cv2.dilate(face.astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))) > 0) & ~face
    hair = band & (height > 0.3)
    neck = (height <= 0.3) & ~face & (side < 0.7)
    return {"face": face & ~mouth & ~eyes, "mouth": mouth, "eyes": eyes, "hair": hair, "neck": neck,
            "background": ~(face | hair | neck)}


def region_ssim(generated: list[np.ndarray], real: list[np.ndarray], masks: list[dict]) -> dict:
    """Mean SSIM, mean area and loss share per region over frames (crops are RGB uint8)."""
    acc: dict[str, list[tuple[float, float]]] = {r: [] for r in REGIONS}
    total = []
    for g, r, m in zip(generated, real, masks):
        s, smap = structural_similarity(g, r, channel_axis=2, data_range=255, full=True)
        smap = smap.mean(axis=2)
        total.append(s)
        for name in REGIONS:
            if m[name].any():
                acc[name].append((float(m[name].mean()), float(smap[m[name]].mean())))
    out = {"ssim": float(np.mean(total))}
    for name, v in acc.items():
        area = float(np.mean([a for a, _ in v])) if v else 0.0
        s = float(np.mean([x for _, x in v])) if v else float("nan")
        out[name] = {"ssim": s, "area": area, "loss": area * (1 - s)}
    return out


def tracked_clip(clip: Path, n_frames: int, extractor) -> tuple[np.ndarray, np.ndarray, np.ndarray, CropBoxes]:
    """The clip's first frames, their VIDEO-mode landmarks and validity, and the harness's crop boxes
    (self-reenactment from frame 0)."""
    from ..landmarks.video_io import probe, read_frames

    frames = read_frames(clip, n_frames)
    h, w = frames.shape[1:3]
    track = extractor.track(frames, fps=probe(clip).fps, source=str(clip))
    if not track.valid[0]:
        raise SystemExit(f"no face in frame 0 of {clip}")
    lm, valid = track.landmarks, track.valid
    return frames, lm, valid, crop_boxes(lm, valid, lm[0], w, h, "follow")


def _clip_regions(clip: Path, models: list[str], n_frames: int, stride: int, size: int, extractor) -> dict:
    frames, lm, valid, boxes = tracked_clip(clip, n_frames, extractor)
    h, w = frames.shape[1:3]
    idx = [t for t in range(0, len(frames), stride) if valid[t]]
    real = [apply_crop(frames[t], boxes, t) for t in idx]
    masks = [region_masks(boxes.to_crop(lm[t, :, :2] * np.array([w, h]), t)) for t in idx]
    out = {"frames": len(idx)}
    for name in models:
        avatar = resolve_model(name).factory(frames[0], lm[0], size)
        gen = []
        for t in idx:
            f = avatar.render(lm[t][None])[0]
            f = f if f.shape[0] == h else cv2.resize(f, (w, h), interpolation=cv2.INTER_AREA)
            gen.append(apply_crop(f, boxes, t))
        out[name] = region_ssim(gen, real, masks)
    return out


def _row(name: str, r: dict) -> str:
    return f"  {name:10s} SSIM {r['ssim']:.4f}  " + "  ".join(
        f"{k} {r[k]['ssim']:.3f} ({r[k]['area']:.2f}, {r[k]['loss']:.3f})" for k in REGIONS)


def main(argv: list[str] | None = None) -> None:
    from ..landmarks.extractor import FaceLandmarkExtractor

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--clip", type=Path, action="append", required=True, help="repeat for several clips")
    ap.add_argument("--models", default="teacher,warp2d", help="comma-separated names or module:factory")
    ap.add_argument("--frames", type=int, default=150)
    ap.add_argument("--stride", type=int, default=5)
    ap.add_argument("--size", type=int, default=512)
    a = ap.parse_args(argv)
    models = a.models.split(",")
    extractor = FaceLandmarkExtractor()
    per_clip = []
    for clip in a.clip:
        r = _clip_regions(clip, models, a.frames, a.stride, a.size, extractor)
        per_clip.append(r)
        print(f"{clip.name}: {r['frames']} frames (every {a.stride}th); region SSIM (area, loss = area x (1 - SSIM))")
        for name in models:
            print(_row(name, r[name]), flush=True)
    if len(per_clip) > 1:
        print(f"mean of {len(per_clip)} clips:")
        for name in models:
            mean = {"ssim": float(np.mean([r[name]["ssim"] for r in per_clip]))}
            for k in REGIONS:
                mean[k] = {q: float(np.nanmean([r[name][k][q] for r in per_clip])) for q in ("ssim", "area", "loss")}
            print(_row(name, mean))


if __name__ == "__main__":
    main()
