"""Mouth interior synthesis for when the driven mouth opens wider than the source's.

Inside the driven inner-lip contour, in a frame aligned with the mouth corners, each pixel gets a
vertical coordinate t (0 at the upper inner lip, 1 at the lower) and a horizontal one u (-1..1
between the corners). From those: a dark pink cavity (a shade of the lip colour) darker in the
middle, an upper teeth band under the upper lip (height grows with the opening up to a real tooth's
height), optionally a thinner lower teeth band when wide open, and a tongue shaded from the lip
colour rising from the bottom.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .topology import (
    LIPS_INNER,
    LIPS_INNER_LOWER,
    LIPS_INNER_UPPER,
    LIPS_OUTER,
    MOUTH_LEFT_CORNER,
    MOUTH_RIGHT_CORNER,
    mouth_opening,
)


@dataclass(frozen=True)
class MouthStyle:
    # Cavity brightness relative to the lip colour. Real open mouths (d10, d12, d18) are a dark pink,
    # about 0.5-0.8 of the lip colour, not black: 0.3 read as a hole.
    cavity: float = 0.5
    upper_teeth: float = 0.07  # max upper-teeth height (mouth widths)
    upper_teeth_gap: float = 0.45  # ... and at most this fraction of the gap
    lower_teeth: float = 0.0  # lower teeth band (mouth widths; 0: none, they are rarely seen and drew a grey ring)
    teeth_gain: float = 0.8
    tongue: float = 0.65  # tongue height (fraction of the gap)
    ramp_start: float = 0.02  # synthesis starts when the driven opening exceeds the source's by this
    ramp: float = 0.08  # ... and is complete this much later


@dataclass
class MouthModel:
    opening: float  # source inner-lip gap / mouth width
    lip: np.ndarray  # (3,) float32 lip colour
    teeth: np.ndarray  # (3,) float32


def build_mouth_model(src: np.ndarray, src_px: np.ndarray, brightness: float) -> MouthModel:
    h, w = src.shape[:2]
    outer = np.zeros((h, w), np.uint8)
    inner = np.zeros((h, w), np.uint8)
    cv2.fillPoly(outer, [np.round(src_px[LIPS_OUTER]).astype(np.int32)], 1)
    cv2.fillPoly(inner, [np.round(src_px[LIPS_INNER]).astype(np.int32)], 1)
    lip_px = src[(outer > 0) & (inner == 0)].astype(np.float32)
    lip = np.median(lip_px, axis=0) if len(lip_px) > 10 else np.array([170, 95, 95], np.float32) * brightness
    opening = float(mouth_opening(src_px))
    teeth = np.array([228, 220, 205], np.float32) * min(brightness, 1.1)
    inside = src[inner > 0].astype(np.float32)
    if opening > 0.08 and len(inside) > 30:
        lum = inside.mean(axis=1)
        bright = inside[lum >= np.percentile(lum, 85)]
        if bright.mean() > 90:  # visible teeth in the source: use their colour
            teeth = bright.mean(axis=0)
    return MouthModel(opening, lip.astype(np.float32), np.clip(teeth, 0, 255).astype(np.float32))


def synth_alpha(model: MouthModel, driven_opening: float, style: MouthStyle = MouthStyle()) -> float:
    """How much of the interior is synthesised: 0 while the source's own interior suffices."""
    return float(np.clip((driven_opening - model.opening - style.ramp_start) / style.ramp, 0.0, 1.0))


def composite_mouth(out: np.ndarray, dst_px: np.ndarray, model: MouthModel, style: MouthStyle = MouthStyle()) -> float:
    """Draws the synthetic interior into `out` (float32 HxWx3, in place); returns the alpha used."""
    opening = float(mouth_opening(dst_px))
    alpha = synth_alpha(model, opening, style)
    if alpha <= 0:
        return 0.0
    h, w = out.shape[:2]
    pts = dst_px[LIPS_INNER]
    x0, y0 = np.floor(pts.min(axis=0)).astype(int) - 2
    x1, y1 = np.ceil(pts.max(axis=0)).astype(int) + 3
    x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
    if x1 - x0 < 3 or y1 - y0 < 3:
        return 0.0
    bw, bh = x1 - x0, y1 - y0
    origin = np.array([x0, y0], np.float32)
    left, right = dst_px[MOUTH_RIGHT_CORNER] - origin, dst_px[MOUTH_LEFT_CORNER] - origin
    centre = (left + right) / 2
    axis = right - left
    width = max(float(np.linalg.norm(axis)), 1.0)
    ex = axis / width
    ey = np.array([-ex[1], ex[0]], np.float32)  # image "down" in the mouth frame
    if ey[1] < 0:
        ey = -ey
    yy, xx = np.mgrid[0:bh, 0:bw].astype(np.float32)
    rel = np.stack([xx - centre[0], yy - centre[1]], axis=-1)
    u = rel @ ex / (width / 2)
    v = rel @ ey

    def curve(idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        p = dst_px[idx] - origin - centre
        cu, cv = p @ ex / (width / 2), p @ ey
        order = np.argsort(cu)
        return cu[order], cv[order]

    vu = np.interp(u, *curve(LIPS_INNER_UPPER))
    vl = np.interp(u, *curve(LIPS_INNER_LOWER))
    gap = np.maximum(vl - vu, 1e-3)
    t = (v - vu) / gap
    depth = np.clip(1.0 - np.square(u), 0.0, 1.0)  # 1 mid-mouth, 0 at the corners
    cavity = model.lip * style.cavity * (0.55 + 0.45 * (1 - depth))[..., None]
    img = cavity.copy()
    # Tongue: an ellipse rising from the lower lip, brighter at its crown.
    tongue_h = style.tongue
    tz = np.clip((t - (1 - tongue_h)) / tongue_h, 0, 1)
    tongue_mask = (tz > 0) & (np.abs(u) < 0.75 * np.sqrt(np.clip(tz * 1.4, 0, 1)) + 0.05)
    tongue = model.lip * (0.55 + 0.25 * np.sqrt(tz))[..., None] * (0.75 + 0.25 * depth)[..., None]
    img = np.where(tongue_mask[..., None], tongue, img)
    # Teeth: upper band under the upper lip, lower band (dimmer) above the lower lip when wide open.
    px_per_width = width
    upper_h = np.minimum(style.upper_teeth * px_per_width, style.upper_teeth_gap * gap)
    lower_h = np.minimum(style.lower_teeth * px_per_width, np.maximum(0.25 * gap - 0.02 * px_per_width, 0))
    shade = np.clip(1.0 - 0.75 * np.square(u), 0.25, 1.0)[..., None]
    # (A band of zero height draws nothing: the half-pixel allowance under the lip is only for a real band.)
    in_upper = (v - vu >= -0.5) & (v - vu < upper_h) & (upper_h > 0) & (np.abs(u) < 0.85)
    in_lower = (vl - v >= -0.5) & (vl - v < lower_h) & (lower_h > 0) & (np.abs(u) < 0.7)
    img = np.where(in_upper[..., None], model.teeth * style.teeth_gain * shade, img)
    img = np.where(in_lower[..., None], model.teeth * 0.8 * style.teeth_gain * shade, img)
    img = cv2.GaussianBlur(img.astype(np.float32), (0, 0), sigmaX=max(width / 120, 0.6))
    m = np.zeros((bh, bw), np.uint8)
    cv2.fillPoly(m, [np.round((pts - origin) * 16).astype(np.int32)], 255, cv2.LINE_AA, shift=4)
    mm = (m.astype(np.float32) / 255.0 * alpha)[..., None]
    out[y0:y1, x0:x1] = out[y0:y1, x0:x1] * (1 - mm) + img * mm
    return alpha
