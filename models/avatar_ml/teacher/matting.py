"""Source foreground (head, hair, neck, body) vs background, and the background plate.

No segmentation weights exist here, so the matte is GrabCut (OpenCV's iterated graph cut over
colour GMMs) seeded from the landmarks: the face mesh and a neck column below the chin are sure
foreground, an enlarged head ellipse (hair) and a body trapezoid below the chin are probable
foreground, everything else probable background. It runs once per onboarding at <= 256 px.
The background plate is the source with the (dilated) foreground inpainted, so regions the head
uncovers when it moves show background rather than smeared hair.
"""

from __future__ import annotations

import cv2
import numpy as np

from .topology import FACE_OVAL

WORK_SIZE = 256


def _ellipse_mask(shape, centre, axes, angle_deg) -> np.ndarray:
    m = np.zeros(shape, np.uint8)
    cv2.ellipse(m, (int(round(centre[0])), int(round(centre[1]))), (max(int(axes[0]), 1), max(int(axes[1]), 1)),
                angle_deg, 0, 360, 1, -1)
    return m > 0


def seed_mask(shape: tuple[int, int], px: np.ndarray, sure_head: float = 0.0) -> np.ndarray:
    """GrabCut seed labels from landmark pixel coordinates (N,2) at the working resolution."""
    h, w = shape
    seeds = np.full((h, w), cv2.GC_PR_BGD, np.uint8)
    oval = px[FACE_OVAL]
    top, chin = px[10], px[152]
    up = top - chin
    fh = float(np.linalg.norm(up))
    up = up / max(fh, 1e-6)
    right = np.array([-up[1], up[0]])
    fw = float(np.ptp(oval @ right))
    angle = float(np.degrees(np.arctan2(right[1], right[0])))
    centre = (top + chin) / 2
    # Hair: an ellipse around the face reaching well above the forehead.
    head = _ellipse_mask((h, w), centre + up * 0.22 * fh, (0.85 * fw, 0.85 * fh), angle)
    seeds[head] = cv2.GC_PR_FGD
    # Body: a trapezoid from under the chin widening to the bottom of the frame.
    neck_top = chin - up * 0.05 * fh
    bottom = chin - up * 3.0 * fh
    body = np.array([neck_top - right * 0.35 * fw, neck_top + right * 0.35 * fw,
                     bottom + right * 1.6 * fw, bottom - right * 1.6 * fw])
    cv2.fillPoly(seeds, [np.round(body).astype(np.int32)], cv2.GC_PR_FGD)
    if sure_head > 0:
        sure = _ellipse_mask((h, w), centre + up * 0.1 * fh, (sure_head * fw, sure_head * fh), angle)
        seeds[sure] = cv2.GC_FGD
    # Sure foreground: the face (slightly eroded) and a neck column.
    face = np.zeros((h, w), np.uint8)
    cv2.fillPoly(face, [np.round(oval).astype(np.int32)], 1)
    face = cv2.erode(face, np.ones((3, 3), np.uint8))
    seeds[face > 0] = cv2.GC_FGD
    neck = np.array([chin - right * 0.15 * fw, chin + right * 0.15 * fw,
                     chin - up * 0.45 * fh + right * 0.15 * fw, chin - up * 0.45 * fh - right * 0.15 * fw])
    cv2.fillPoly(seeds, [np.round(neck).astype(np.int32)], cv2.GC_FGD)
    return seeds


def foreground_alpha(src: np.ndarray, src_px: np.ndarray, iterations: int = 4, sure_head: float = 0.0) -> np.ndarray:
    """(H, W) float32 soft foreground matte of the source (1 = head/hair/body)."""
    h, w = src.shape[:2]
    k = min(1.0, WORK_SIZE / max(h, w))
    small = cv2.resize(src, (int(round(w * k)), int(round(h * k))), interpolation=cv2.INTER_AREA) if k < 1 else src
    seeds = seed_mask(small.shape[:2], (src_px + 0.5) * k - 0.5, sure_head)
    bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    mask = seeds.copy()
    # GrabCut's colour models start from k-means on OpenCV's global RNG: seed it, so the matte (and every
    # render) does not depend on what ran before in the process (d12 moved by +-0.005 SSIM with it).
    cv2.setRNGSeed(0)
    try:
        cv2.grabCut(cv2.cvtColor(small, cv2.COLOR_RGB2BGR), mask, None, bgd, fgd, iterations, cv2.GC_INIT_WITH_MASK)
    except cv2.error:  # degenerate colour models (e.g. a flat image): fall back to the seeds
        mask = seeds
    fg = ((mask == cv2.GC_FGD) | (mask == cv2.GC_PR_FGD)).astype(np.uint8)
    fg = cv2.morphologyEx(fg, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    fg = cv2.morphologyEx(fg, cv2.MORPH_CLOSE, np.ones((5, 5), np.uint8))
    # Keep what is connected to the face.
    n, lab = cv2.connectedComponents(fg)
    face_lab = lab[seeds == cv2.GC_FGD]
    if n > 2 and face_lab.size:
        keep = np.unique(face_lab[face_lab > 0])
        fg = np.isin(lab, keep).astype(np.uint8)
    alpha = cv2.GaussianBlur(fg.astype(np.float32), (0, 0), sigmaX=1.0)
    return cv2.resize(alpha, (w, h), interpolation=cv2.INTER_LINEAR) if k < 1 else alpha


def background_plate(src: np.ndarray, alpha: np.ndarray, margin_px: int = 6, keep_below: float = 0.5) -> np.ndarray:
    """The source with its foreground inpainted (at <= 256 px, upsampled inside the foreground only)."""
    h, w = src.shape[:2]
    hole = (alpha > 0.05).astype(np.uint8)
    hole = cv2.dilate(hole, np.ones((2 * margin_px + 1,) * 2, np.uint8))
    k = min(1.0, WORK_SIZE / max(h, w))
    size = (int(round(w * k)), int(round(h * k)))
    small = cv2.resize(src, size, interpolation=cv2.INTER_AREA)
    small_hole = cv2.resize(hole, size, interpolation=cv2.INTER_NEAREST)
    filled = cv2.inpaint(small, small_hole, 5, cv2.INPAINT_TELEA)
    filled = cv2.resize(filled, (w, h), interpolation=cv2.INTER_CUBIC)
    # The inpainting hole is generous (clean colours to fill from), but the plate keeps the source
    # wherever the source is background, so a head that does not move reproduces the source exactly.
    return np.where((alpha >= keep_below)[..., None], filled, src)
