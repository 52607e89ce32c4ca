"""Eye interiors: the eyeball is re-synthesised inside the driven lid contour so that blinks close
it and the iris follows the iris landmarks (gaze), whatever the source eye was doing.

Onboarding (once per source) builds, per eye, a sclera plate (the source with the iris inpainted,
the hole pulled towards the colour of the brighter visible sclera, so an iris that moves away leaves
white, not the lid shadow Telea drags in) and an iris sprite (visible source iris pixels, completed
by the iris's own radial colour profile where the lid hid it). A closed source eye gets a synthetic
sclera and iris instead. A closing eye's lid band is repainted with the skin around it and its
sliver between the lids turns into the lash line.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .topology import EYE_FOLDS, EYES, eye_opening

OPEN_THRESHOLD = 0.16  # lid gap / eye width above which a source eye counts as open
_BINS = 12
SCLERA_PERCENTILE = 75.0  # sclera colour: median of the visible eye pixels beside the iris at least this bright
SCLERA_FILL = 1.0  # how far the inpainted iris hole of the sclera plate is pulled towards that colour
LASH_CLOSE = 1.0  # how far a nearly shut eye's sliver turns into the lash colour
SKIN_PERCENTILE = 40.0  # a repainted lid takes the colour of the surrounding pixels at least this bright


@dataclass
class EyeModel:
    open: bool
    sprite: np.ndarray  # (S, S, 3) float32 iris, centred, radius `radius` px
    radius: float
    sclera_color: np.ndarray  # (3,) float32
    gaze: np.ndarray  # (2,) source iris centre in the eye frame (eye widths, from the corners' midpoint)
    opening: float  # source lid gap / eye width
    lid_color: np.ndarray  # (3,) upper-lid skin between the lashes and the fold
    lash_color: np.ndarray  # (3,) the lash line


GAZE_START, GAZE_RAMP = 0.03, 0.05  # re-synthesis fades in as the gaze moves this far (eye widths)
OPEN_START, OPEN_RAMP = 0.10, 0.20  # ... or as the lid opening changes by this fraction


def gaze_offset(px: np.ndarray, eye: int) -> np.ndarray:
    """Iris centre relative to the eye corners' midpoint, in eye widths along/across the eye."""
    _, _, _, outer, inner, centre, _ = EYES[eye]
    a, b = px[outer], px[inner]
    ax = b - a
    width = max(float(np.linalg.norm(ax)), 1e-6)
    ex = ax / width
    ey = np.array([-ex[1], ex[0]])
    rel = px[centre] - (a + b) / 2
    return np.array([rel @ ex, rel @ ey]) / width


def _polygon_mask(pts: np.ndarray, shape: tuple[int, int], aa: bool = True) -> np.ndarray:
    m = np.zeros(shape, np.uint8)
    cv2.fillPoly(m, [np.round(pts * 16).astype(np.int32)], 255, cv2.LINE_AA if aa else cv2.LINE_8, shift=4)
    return m.astype(np.float32) / 255.0


def _iris_geometry(px: np.ndarray, centre: int, ring: np.ndarray) -> tuple[np.ndarray, float]:
    c = px[centre]
    r = float(np.mean(np.linalg.norm(px[ring] - c, axis=1)))
    return c, max(r, 1.0)


def build_eye_models(src: np.ndarray, src_px: np.ndarray, brightness: float) -> tuple[list[EyeModel], np.ndarray]:
    """EyeModels for both eyes and the sclera plate (source with irises inpainted)."""
    h, w = src.shape[:2]
    inpaint_mask = np.zeros((h, w), np.uint8)
    models: list[EyeModel] = []
    fills = []
    for contour, *_rest, centre, ring in EYES:
        eye_idx = len(models)
        c, r = _iris_geometry(src_px, centre, ring)
        is_open = bool(eye_opening(src_px, eye_idx) > OPEN_THRESHOLD)
        half = int(np.ceil(r * 1.25)) + 1
        size = 2 * half + 1
        yy, xx = np.mgrid[-half : half + 1, -half : half + 1].astype(np.float32)
        rad = np.sqrt(xx**2 + yy**2) / r
        poly = _polygon_mask(src_px[contour], (h, w), aa=False) > 0.5
        sclera = np.array([225, 215, 210], np.float32) * brightness
        if is_open:
            x0, y0 = int(round(c[0])) - half, int(round(c[1])) - half
            patch = np.zeros((size, size, 3), np.float32)
            vis = np.zeros((size, size), bool)
            ys, xs = np.mgrid[y0 : y0 + size, x0 : x0 + size]
            inb = (ys >= 0) & (ys < h) & (xs >= 0) & (xs < w)
            patch[inb] = src[ys[inb], xs[inb]]
            vis[inb] = poly[ys[inb], xs[inb]]
            vis &= rad <= 1.0
            # Radial colour profile from the visible iris completes what the lid hides.
            bins = np.minimum((rad * _BINS).astype(int), _BINS - 1)
            prof = np.zeros((_BINS, 3), np.float32)
            fallback = patch[vis].mean(axis=0) if vis.any() else np.array([70, 55, 45], np.float32)
            for b in range(_BINS):
                sel = vis & (bins == b)
                prof[b] = patch[sel].mean(axis=0) if sel.sum() >= 3 else fallback
            sprite = np.where(vis[..., None], patch, prof[bins])
            # Inpaint the iris out of the eye so the sclera plate can carry a moved iris.
            cv2.circle(inpaint_mask, (int(round(c[0])), int(round(c[1]))), int(np.ceil(r * 1.15)), 255, -1)
            ring_px = poly & ~(np.hypot(*(np.mgrid[0:h, 0:w][::-1] - c[:, None, None])) <= r * 1.2)
            if ring_px.sum() > 5:
                vis_sclera = src[ring_px].astype(np.float32)
                lum = vis_sclera.mean(axis=1)
                # The brighter part of what shows beside the iris: lash and lid shadows are not sclera.
                sclera = np.median(vis_sclera[lum >= np.percentile(lum, SCLERA_PERCENTILE)], axis=0)
            fills.append((c, r, sclera))
        else:
            iris = np.array([80, 60, 48], np.float32) * brightness
            sprite = np.where(
                (rad < 0.42)[..., None], np.array([22, 16, 16], np.float32), iris * (1.0 - 0.35 * np.clip(rad - 0.7, 0, 0.3) / 0.3)[..., None]
            ).astype(np.float32)
        lid_color, lash_color = _lid_colors(src, src_px, eye_idx)
        models.append(EyeModel(is_open, sprite.astype(np.float32), r, sclera.astype(np.float32), gaze_offset(src_px, eye_idx),
                               float(eye_opening(src_px, eye_idx)), lid_color, lash_color))
    plate = cv2.inpaint(src, inpaint_mask, 3, cv2.INPAINT_TELEA) if inpaint_mask.any() else src.copy()
    if fills and SCLERA_FILL > 0:
        # Telea fills the iris hole from its border, lashes and lid shadow included (a grey, dirty
        # sclera once the iris moves away): blend the hole towards the visible sclera's colour.
        plate = plate.astype(np.float32)
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        for c, r, sclera in fills:
            disk = np.clip(r * 1.15 + 0.5 - np.hypot(xx - c[0], yy - c[1]), 0.0, 1.0)
            k = (SCLERA_FILL * disk)[..., None]
            plate = plate * (1 - k) + sclera[None, None] * k
        plate = np.clip(plate + 0.5, 0, 255).astype(np.uint8)
    return models, plate


def _upper_lid_band(px: np.ndarray, eye: int) -> np.ndarray:
    """Polygon between the upper lid line and the fold above it (outer corner → inner corner → back)."""
    contour = EYES[eye][0]
    return np.concatenate([px[contour[:9]], px[EYE_FOLDS[eye][::-1]]])


def _lid_colors(src: np.ndarray, px: np.ndarray, eye: int) -> tuple[np.ndarray, np.ndarray]:
    band = _polygon_mask(_upper_lid_band(px, eye), src.shape[:2], aa=False) > 0.5
    pix = src[band].astype(np.float32)
    if len(pix) < 10:
        return np.array([190, 150, 130], np.float32), np.array([40, 30, 30], np.float32)
    lum = pix.mean(axis=1)
    skin = pix[lum >= np.percentile(lum, 50)]
    lash = pix[lum <= np.percentile(lum, 10)]
    return np.median(skin, axis=0), np.median(lash, axis=0)


def composite_lids(out: np.ndarray, dst_px: np.ndarray, models: list[EyeModel]) -> None:
    """When the driven eye is more closed than the source, the stretched band between the lid line
    and the fold would smear the source's lashes over the eye: repaint it as lid skin (keeping some
    of the warped texture) with a lash line along the driven lid edge."""
    h, w = out.shape[:2]
    for eye_idx, model in enumerate(models):
        if not model.open:
            continue
        closure = 1.0 - float(eye_opening(dst_px, eye_idx)) / max(model.opening, 1e-6)
        k = float(np.clip((closure - 0.2) / 0.4, 0.0, 1.0))
        if k <= 0:
            continue
        band = _upper_lid_band(dst_px, eye_idx)
        x0, y0 = np.floor(band.min(axis=0)).astype(int) - 3
        x1, y1 = np.ceil(band.max(axis=0)).astype(int) + 4
        x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
        if x1 - x0 < 2 or y1 - y0 < 2:
            continue
        origin = np.array([x0, y0], np.float32)
        m = cv2.GaussianBlur(_polygon_mask(band - origin, (y1 - y0, x1 - x0)), (0, 0), 0.8)
        region = out[y0:y1, x0:x1]
        # Lid skin = the skin around the band in this frame (normalised convolution of what lies outside
        # the band and the eye), so the repainted lid takes its surroundings' colour and shading; the
        # source's lid colour only where nothing is near (a flat patch of it showed as a grey oval).
        eye_m = _polygon_mask(dst_px[EYES[eye_idx][0]] - origin, (y1 - y0, x1 - x0))
        keep = np.clip(1.0 - cv2.dilate(np.maximum(m, eye_m), np.ones((3, 3), np.uint8)), 0.0, 1.0)
        lum = region.mean(axis=2)
        if (keep > 0.5).sum() > 10:  # skin only: lashes, liner and brows around the band are not lid skin
            keep = keep * (lum >= np.percentile(lum[keep > 0.5], SKIN_PERCENTILE))
        sig = max(float(np.linalg.norm(band[0] - band[8])) * 0.2, 1.0)
        num = cv2.GaussianBlur(region * keep[..., None], (0, 0), sig, borderType=cv2.BORDER_REPLICATE)
        den = cv2.GaussianBlur(keep, (0, 0), sig, borderType=cv2.BORDER_REPLICATE)[..., None]
        lid_color = np.where(den > 0.05, num / np.maximum(den, 1e-3), model.lid_color[None, None])
        skin = 0.35 * region + 0.65 * lid_color
        region[:] = region * (1 - k * m[..., None]) + skin * (k * m[..., None])
        lid = dst_px[EYES[eye_idx][0][:9]] - origin
        eye_w = float(np.linalg.norm(lid[0] - lid[-1]))
        lash = np.zeros((y1 - y0, x1 - x0), np.uint8)
        cv2.polylines(lash, [np.round(lid * 16).astype(np.int32)], False, 255,
                      max(1, int(round(eye_w * 0.045))), cv2.LINE_AA, shift=4)
        a = (lash.astype(np.float32) / 255.0 * k * 0.75)[..., None]
        region[:] = region * (1 - a) + model.lash_color[None, None] * a


def composite_eyes(
    out: np.ndarray, warped_plate: np.ndarray, dst_px: np.ndarray, models: list[EyeModel]
) -> None:
    """Draws both eyeballs into `out` (float32 HxWx3, in place) inside the driven lid contours."""
    h, w = out.shape[:2]
    for eye_idx, ((contour, *_rest, centre, ring), model) in enumerate(zip(EYES, models)):
        pts = dst_px[contour]
        x0, y0 = np.floor(pts.min(axis=0)).astype(int) - 2
        x1, y1 = np.ceil(pts.max(axis=0)).astype(int) + 3
        x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
        if x1 - x0 < 2 or y1 - y0 < 2:
            continue
        # An open source eye looking the same way, as open, is best left to the mesh warp (keeps its detail);
        # re-synthesis fades in with the gaze or opening change, and always runs for a closed source eye.
        delta = float(np.linalg.norm(gaze_offset(dst_px, eye_idx) - model.gaze))
        change = abs(float(eye_opening(dst_px, eye_idx)) / max(model.opening, 1e-6) - 1.0)
        weight = 1.0 if not model.open else max(
            float(np.clip((delta - GAZE_START) / GAZE_RAMP, 0.0, 1.0)),
            float(np.clip((change - OPEN_START) / OPEN_RAMP, 0.0, 1.0)),
        )
        if weight <= 0:
            continue
        bw, bh = x1 - x0, y1 - y0
        local = pts - np.array([x0, y0], np.float32)
        m = _polygon_mask(local, (bh, bw))
        if m.max() <= 0:
            continue
        if model.open:
            sclera = warped_plate[y0:y1, x0:x1].astype(np.float32)
        else:
            # Synthetic sclera: lighter in the middle, shaded towards the corners and under the lid.
            yy, xx = np.mgrid[0:bh, 0:bw].astype(np.float32)
            cx = (local[:, 0].min() + local[:, 0].max()) / 2
            half_w = max((local[:, 0].max() - local[:, 0].min()) / 2, 1.0)
            shade = 1.0 - 0.35 * np.square((xx - cx) / half_w) - 0.15 * (1 - yy / max(bh - 1, 1))
            sclera = model.sclera_color[None, None] * np.clip(shade, 0.4, 1.0)[..., None]
        c, r = _iris_geometry(dst_px, centre, ring)
        s = r / model.radius
        half = (model.sprite.shape[0] - 1) / 2
        a = np.array([[s, 0, c[0] - x0 - s * half], [0, s, c[1] - y0 - s * half]], np.float32)
        iris = cv2.warpAffine(model.sprite, a, (bw, bh), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        yy, xx = np.mgrid[0:bh, 0:bw].astype(np.float32)
        dist = np.hypot(xx - (c[0] - x0), yy - (c[1] - y0))
        ia = np.clip(r + 0.5 - dist, 0.0, 1.0)[..., None]
        eye = sclera * (1 - ia) + iris * ia
        if not model.open:
            # A synthetic eyeball gets the soft shadow under the upper lid a real one already has.
            top = np.interp(xx, *_upper_curve(local))
            shadow = 1.0 - 0.25 * np.exp(-np.maximum(yy - top, 0) / max(r * 0.35, 0.5))
            eye = eye * shadow[..., None]
        if model.open:
            # Nearly shut, the sliver between the lids is lashes, not a squeezed sclera and iris.
            closure = 1.0 - float(eye_opening(dst_px, eye_idx)) / max(model.opening, 1e-6)
            shut = LASH_CLOSE * float(np.clip((closure - 0.5) / 0.3, 0.0, 1.0))
            eye = eye * (1 - shut) + model.lash_color[None, None] * shut
        mm = m[..., None] * weight
        out[y0:y1, x0:x1] = out[y0:y1, x0:x1] * (1 - mm) + eye * mm


def _upper_curve(local: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    upper = local[:9]  # contour order: outer corner, upper lid ..., inner corner
    order = np.argsort(upper[:, 0])
    return upper[order, 0], upper[order, 1]
