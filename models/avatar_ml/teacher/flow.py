"""The teacher's dense backward warp: a depth-ordered 3D face-mesh warp inside the face, and a
smooth displacement field outside it that carries hair, neck and shoulders with the head and decays
to zero far away, so the background stays put.

Outside the face the displacement is a normalised convolution of the displacements on a ring just
inside the face boundary (two Gaussian scales: local detail near the face, a broad average farther
out), multiplied by a weight that is 1 up to `hold` face-heights from the face and then falls off
as a Gaussian of width `falloff` face-heights.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .raster import backward_map, triangle_affines, triangle_id_map


@dataclass(frozen=True)
class FlowParams:
    ring: float = 0.06  # ring width inside the face boundary whose motion is propagated (face heights)
    sigma_near: float = 0.08  # local propagation scale (face heights)
    sigma_far: float = 0.35  # broad propagation scale (face heights)
    hold: float = 0.12  # distance over which the exterior moves fully with the face boundary
    falloff: float = 0.55  # Gaussian decay width beyond `hold`
    coarse: int = 4  # exterior field resolution divisor
    seam: float = 2.0  # px feather between mesh warp and exterior field at the face boundary


def _gauss(img: np.ndarray, sigma: float) -> np.ndarray:
    return cv2.GaussianBlur(img, (0, 0), sigmaX=max(sigma, 0.5), borderType=cv2.BORDER_REPLICATE)


def exterior_displacement(
    disp: np.ndarray, mask: np.ndarray, face_height: float, params: FlowParams
) -> np.ndarray:
    """(H, W, 2) displacement outside the face extrapolated from `disp` (valid where mask)."""
    h, w = mask.shape
    c = params.coarse
    ch, cw = max(h // c, 8), max(w // c, 8)
    fh = face_height / c  # face height in coarse pixels
    m8 = mask.astype(np.uint8)
    ring_px = max(1, int(round(params.ring * face_height)))
    inner = cv2.erode(m8, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * ring_px + 1,) * 2))
    ring = (m8 > 0) & (inner == 0)
    d = np.where(ring[..., None], np.nan_to_num(disp), 0.0).astype(np.float32)
    dm = cv2.resize(d, (cw, ch), interpolation=cv2.INTER_AREA)
    mc = cv2.resize(ring.astype(np.float32), (cw, ch), interpolation=cv2.INTER_AREA)
    k_far = 0.05
    num = _gauss(dm, params.sigma_near * fh) + k_far * _gauss(dm, params.sigma_far * fh)
    den = _gauss(mc, params.sigma_near * fh) + k_far * _gauss(mc, params.sigma_far * fh)
    fallback = d[ring].mean(axis=0) if ring.any() else np.zeros(2, np.float32)
    ext = np.where(den[..., None] > 1e-6, num / np.maximum(den, 1e-6)[..., None], fallback)
    # Distance from the face (coarse px) → weight.
    outside = (cv2.resize(m8, (cw, ch), interpolation=cv2.INTER_NEAREST) == 0).astype(np.uint8)
    dist = cv2.distanceTransform(outside, cv2.DIST_L2, 3) / max(fh, 1e-6)
    wgt = np.exp(-np.square(np.maximum(dist - params.hold, 0.0) / params.falloff))
    ext = (ext * wgt[..., None]).astype(np.float32)
    return cv2.resize(ext, (w, h), interpolation=cv2.INTER_LINEAR)


def mesh_backward_map(
    src_px: np.ndarray,
    dst_px: np.ndarray,
    dst_depth: np.ndarray | None,
    triangles: np.ndarray,
    out_size: tuple[int, int],
    src_scale: float,
    face_height: float,
    params: FlowParams = FlowParams(),
) -> tuple[np.ndarray, np.ndarray]:
    """Backward map (H, W, 2) float32 into the source image and the face coverage mask (H, W) bool.

    src_px: (N, 2) source pixel coords; dst_px: (N, 2) output pixel coords; src_scale converts
    source pixels into output pixels (out_size / source_size) so displacements share one frame.
    """
    h, w = out_size
    ids = triangle_id_map(dst_px, triangles, (h, w), dst_depth)
    aff = triangle_affines(dst_px, src_px, triangles)
    src_map, mask = backward_map(ids, aff)
    gy, gx = np.mgrid[0:h, 0:w].astype(np.float32)
    grid = np.stack([gx, gy], axis=-1)
    disp = src_map * src_scale - grid
    ext = exterior_displacement(disp, mask, face_height, params)
    if params.seam > 0:
        inside = cv2.distanceTransform(mask.astype(np.uint8), cv2.DIST_L2, 3)
        a = np.clip(inside / params.seam, 0.0, 1.0)[..., None]
        total = np.where(mask[..., None], a * np.nan_to_num(disp) + (1 - a) * ext, ext)
    else:
        total = np.where(mask[..., None], disp, ext)
    return ((grid + total) / src_scale).astype(np.float32), mask
