"""The teacher's dense backward warp: a depth-ordered 3D face-mesh warp inside the face, and a
smooth displacement field outside it that carries the skull and the hair on it with the head.

Outside the face the backward displacement is the sum of
- the face boundary's own motion (normalised convolution of the displacements on a thin ring just
  inside the face boundary), fading within `seam_fade` face heights — this keeps the field
  continuous at the boundary (no seam), and
- the rigid head motion: the 3D similarity fitted on skull-fixed landmarks (forehead, temples, nose
  bridge, eye corners; MediaPipe z) as it moves a plane `skull_depth` face heights behind the face,
  near the head's centre of rotation (a 2D similarity on the same landmarks when `skull_depth` < 0 or
  no source depth is given). Seen on the face surface, a turn (yaw) shifts the landmarks sideways
  while the head's outline and the hair on it barely move; on the deeper plane a turn only
  foreshortens, and a nod, tilt or sway still carries the hair. Its weight is 1 within a held
  distance of the face that depends on the direction from the head centre (`hold_up` above the
  head, `hold_side` at the sides, `hold_down` below the chin: the neck does not turn with the head
  and jaw opening must not drag it), falls off beyond it as a Gaussian of width `falloff`, and fades with height between `carry_top` and
  `carry_bottom` (long hair hangs from the skull; below the ears it does not swing with the head).
The renderer layers this moving foreground over a steady background plate (matting.py), so the
field may be generous where the matte says "background". Values were chosen by ablation on
../shared/media (see models/README.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .head_ring import umeyama
from .raster import backward_map, triangle_affines, triangle_id_map
from .topology import RIGID_LANDMARKS


@dataclass(frozen=True)
class FlowParams:
    ring: float = 0.04  # ring width inside the face boundary whose motion is propagated (face heights)
    seam_fade: float = 0.06  # how far the boundary's own motion reaches (face heights)
    hold_up: float = 0.4  # the skull (and hair on it) above the face moves fully with the head
    hold_side: float = 0.05  # ... at the sides
    hold_down: float = 0.0  # ... below the chin (the neck does not turn with the head)
    falloff: float = 0.15  # Gaussian decay width beyond the held region (face heights)
    # Long hair hangs: the rigid motion fades from full at `carry_top` to none at `carry_bottom`
    # (heights above the chin in face heights) outside the face.
    carry_top: float = 0.9
    carry_bottom: float = 0.5
    coarse: int = 4  # exterior field resolution divisor
    head_ring: float = 0.2  # width of the 3D head-proxy ring around the face (face heights; 0: off)
    head_ring_back: float = 1.0  # how far the ring bends backwards (z per unit of outward width)
    head_ring_chin: float = 0.3  # relative ring width at the chin
    affine: bool = False  # rigid head motion as a 2D affine (foreshortening) instead of a similarity
    seam: float = 2.0  # px feather between mesh warp and exterior field at the face boundary
    # The skull's rigid motion is the 3D head motion (Umeyama on skull-fixed landmarks) seen on a plane
    # this far (face heights) behind the face mesh's mean depth, near the head's centre of rotation: a
    # turning head slides its face landmarks sideways, but not its outline and the hair on it. < 0: a
    # 2D fit on the face landmarks (also used when no source depth is given).
    skull_depth: float = 0.3
    # Stretch limit: the boundary's motion fades over at least `stretch` times the jump between it
    # and the rigid exterior motion, where the boundary pulls away from the exterior (the jump's part
    # along the outward normal): over max(seam_fade, stretch·jump/face height). A fixed short fade
    # folded the field where the face (or the head ring) moved far away from a still exterior
    # (KatieHill: a 50-75 px ring motion faded over ~20 px mirrored the hair into a swirl, an ear
    # appeared twice); the Gaussian fade's steepest slope is 0.86·jump/width, so with stretch >= 1
    # it cannot fold (1 is the smallest such value, not a tuned one: 1.5 / 2 trade d12 for KatieHill).
    # Small motions (below seam_fade·face height / stretch) keep the short fade. 0: off.
    stretch: float = 1.0


def _gauss(img: np.ndarray, sigma: float) -> np.ndarray:
    return cv2.GaussianBlur(img, (0, 0), sigmaX=max(sigma, 0.5), borderType=cv2.BORDER_REPLICATE)


def similarity_fit(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(2, 3) least-squares similarity transform taking points a (N,2) onto b (N,2)."""
    ca, cb = a.mean(axis=0), b.mean(axis=0)
    a0, b0 = a - ca, b - cb
    den = max(float((a0**2).sum()), 1e-9)
    p = float((a0 * b0).sum()) / den  # s*cos
    q = float((a0[:, 0] * b0[:, 1] - a0[:, 1] * b0[:, 0]).sum()) / den  # s*sin
    r = np.array([[p, -q], [q, p]])
    return np.concatenate([r, (cb - r @ ca)[:, None]], axis=1)


def affine_fit(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(2, 3) least-squares affine transform taking points a (N,2) onto b (N,2); it captures the
    horizontal/vertical foreshortening of a turning/nodding head that a similarity cannot."""
    ah = np.concatenate([a, np.ones((len(a), 1))], axis=1)
    x, *_ = np.linalg.lstsq(ah, b, rcond=None)
    return x.T


def skull_plane_map(src3: np.ndarray, dst3: np.ndarray, depth: float) -> np.ndarray:
    """(2, 3) backward map (output pixel → source pixel) of the image-parallel plane through the head's
    centre (`depth` pixels behind the source face mesh's mean, moved by the 3D similarity fitted on
    skull-fixed landmarks), every output pixel taken to lie on that plane."""
    s, r, t = umeyama(src3[RIGID_LANDMARKS], dst3[RIGID_LANDMARKS])
    centre = src3[:468].mean(axis=0) + np.array([0.0, 0.0, depth])
    z = float((s * r @ centre + t)[2])  # the centre's driven depth
    rt = r.T / max(s, 1e-9)  # src = R^T (p - t) / s
    return np.concatenate([rt[:2, :2], (rt[:2, 2] * z - rt[:2] @ t)[:, None]], axis=1)


def exterior_displacement(
    disp: np.ndarray, mask: np.ndarray, rigid: np.ndarray, head_centre: np.ndarray, up: np.ndarray,
    face_height: float, params: FlowParams,
) -> np.ndarray:
    """(H, W, 2) displacement outside the face; `disp` is valid where `mask`; rigid: (2,3) backward map."""
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
    sig = params.seam_fade * fh
    num, den = _gauss(dm, sig), _gauss(mc, sig)
    boundary = num / np.maximum(den, 1e-6)[..., None]
    # Coarse pixel centres in full-resolution pixel coordinates.
    gy, gx = np.mgrid[0:ch, 0:cw].astype(np.float32)
    px = np.stack([(gx + 0.5) * (w / cw) - 0.5, (gy + 0.5) * (h / ch) - 0.5], axis=-1)
    rig = px @ rigid[:, :2].T + rigid[:, 2] - px
    outside = (cv2.resize(m8, (cw, ch), interpolation=cv2.INTER_NEAREST) == 0).astype(np.uint8)
    dist = cv2.distanceTransform(outside, cv2.DIST_L2, 3) / max(fh, 1e-6)
    rel = px - head_centre
    cos = (rel @ up) / np.maximum(np.linalg.norm(rel, axis=-1), 1e-6)
    hold = np.where(
        cos > 0,
        params.hold_side + (params.hold_up - params.hold_side) * cos,
        params.hold_side + (params.hold_side - params.hold_down) * cos,
    )
    w_rigid = np.exp(-np.square(np.maximum(dist - hold, 0.0) / max(params.falloff, 1e-3)))
    height = (rel @ up) / max(fh * c, 1e-6) + 0.5  # 0 at the chin, 1 at the forehead top
    span = max(params.carry_top - params.carry_bottom, 1e-3)
    v = np.clip((height - params.carry_bottom) / span, 0.0, 1.0)
    w_rigid = w_rigid * (v * v * (3 - 2 * v))
    if params.stretch > 0:
        # The boundary's motion carried outwards from the nearest boundary pixel (then smoothed), so
        # it is defined as far as a long fade needs it.
        src = (mc > 1e-3) & (den > 1e-4)
        if src.any():
            _, lab = cv2.distanceTransformWithLabels((~src).astype(np.uint8), cv2.DIST_L2, 5,
                                                     labelType=cv2.DIST_LABEL_PIXEL)
            ys, xs = np.nonzero(src)  # labels number the zero pixels in raster order, from 1
            near = _gauss(boundary[ys, xs][lab - 1], sig)
            # Far out, a wider blur (the nearest-pixel extension has steps across the boundary's normals).
            w_near = np.exp(-np.square(dist / max(params.seam_fade, 1e-3)))[..., None]
            boundary = w_near * near + (1 - w_near) * _gauss(near, 4 * sig)
            den = np.ones_like(den)
        # Only the part of the jump that pulls the boundary away from the exterior (along the outward
        # normal) can fold the field; a boundary moving outwards over the exterior is an occlusion
        # (the chin over the neck) and keeps the short fade (a longer one dragged the neck and the
        # background with a nodding head: d12 -0.01).
        jump = boundary - w_rigid[..., None] * rig
        dy, dx = np.gradient(_gauss(dist.astype(np.float32), 1.0))
        normal = np.stack([dx, dy], axis=-1)
        normal /= np.maximum(np.linalg.norm(normal, axis=-1, keepdims=True), 1e-6)
        apart = np.maximum((jump * normal).sum(axis=-1), 0.0) / max(face_height, 1e-6)
        fade = np.maximum(params.seam_fade, params.stretch * apart)
    else:
        fade = max(params.seam_fade, 1e-3)
    w_bound = np.exp(-np.square(dist / fade))
    # Near the face the boundary's own motion takes over from the rigid one (continuity).
    ext = w_bound[..., None] * boundary + (1 - w_bound)[..., None] * w_rigid[..., None] * rig
    ext = np.where((den > 1e-4)[..., None], ext, w_rigid[..., None] * rig).astype(np.float32)
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
    src_depth: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Backward map (H, W, 2) float32 into the source image and the face coverage mask (H, W) bool.

    src_px: (468, 2) source pixel coords of the canonical-mesh vertices; dst_px: (468, 2) output
    pixel coords; src_scale converts source pixels into output pixels (out_size / source_size) so
    displacements share one frame. dst_depth / src_depth: per-vertex depths (larger = farther, in
    output / source pixels); with both, the exterior's rigid motion is the 3D skull-plane map.
    """
    h, w = out_size
    ids = triangle_id_map(dst_px, triangles, (h, w), dst_depth)
    aff = triangle_affines(dst_px, src_px, triangles)
    src_map, mask = backward_map(ids, aff)
    gy, gx = np.mgrid[0:h, 0:w].astype(np.float32)
    grid = np.stack([gx, gy], axis=-1)
    disp = src_map * src_scale - grid
    if params.skull_depth >= 0 and src_depth is not None and dst_depth is not None:
        src3 = np.concatenate([src_px[:468] * src_scale, src_depth[:468, None] * src_scale], axis=1)
        dst3 = np.concatenate([dst_px[:468], dst_depth[:468, None]], axis=1)
        rigid = skull_plane_map(src3, dst3, params.skull_depth * face_height)
    else:
        fit = affine_fit if params.affine else similarity_fit
        rigid = fit(dst_px[RIGID_LANDMARKS], src_px[RIGID_LANDMARKS] * src_scale)
    centre = dst_px[:468].mean(axis=0)
    up = dst_px[10] - dst_px[152]
    up = up / max(float(np.linalg.norm(up)), 1e-6)
    ext = exterior_displacement(disp, mask, rigid, centre, up, face_height, params)
    if params.seam > 0:
        inside = cv2.distanceTransform(mask.astype(np.uint8), cv2.DIST_L2, 3)
        a = np.clip(inside / params.seam, 0.0, 1.0)[..., None]
        total = np.where(mask[..., None], a * np.nan_to_num(disp) + (1 - a) * ext, ext)
    else:
        total = np.where(mask[..., None], disp, ext)
    return ((grid + total) / src_scale).astype(np.float32), mask
