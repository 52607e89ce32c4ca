"""Depth-ordered triangle rasterisation and the backward map it induces.

A triangle-id image is drawn with OpenCV's sub-pixel polygon fill in painter's order (farthest
first, so nearer triangles of a turned head overwrite the hidden ones); then every covered pixel is
mapped back into the source through its triangle's affine map, all pixels at once.
"""

from __future__ import annotations

import cv2
import numpy as np

_SHIFT = 4  # sub-pixel bits for cv2.fillConvexPoly


def triangle_id_map(
    points: np.ndarray, triangles: np.ndarray, size: tuple[int, int], depth: np.ndarray | None = None
) -> np.ndarray:
    """(H, W) int32 image of the triangle covering each pixel centre, -1 where none.

    points: (N, 2) pixel coordinates (pixel centres at integers); depth: (N,) larger = farther.
    """
    h, w = size
    ids = np.full((h, w), -1, np.int32)
    tri_pts = np.round(points[triangles] * (1 << _SHIFT)).astype(np.int32)  # (T, 3, 2)
    order = np.arange(len(triangles))
    if depth is not None:
        order = np.argsort(-depth[triangles].mean(axis=1), kind="stable")
    # Skip triangles that lie wholly outside the image (cheap bound check).
    lo = tri_pts.min(axis=1) >> _SHIFT
    hi = tri_pts.max(axis=1) >> _SHIFT
    visible = (hi[:, 0] >= 0) & (hi[:, 1] >= 0) & (lo[:, 0] < w) & (lo[:, 1] < h)
    for t in order:
        if visible[t]:
            cv2.fillConvexPoly(ids, tri_pts[t], int(t), lineType=cv2.LINE_8, shift=_SHIFT)
    return ids


def triangle_affines(dst: np.ndarray, src: np.ndarray, triangles: np.ndarray) -> np.ndarray:
    """(T, 2, 3) affine maps taking each dst triangle onto its src triangle (degenerate ones: translation)."""
    d = dst[triangles]  # (T, 3, 2)
    s = src[triangles]
    dh = np.concatenate([d, np.ones(d.shape[:2] + (1,), d.dtype)], axis=2)  # (T, 3, 3)
    det = np.linalg.det(dh)
    ok = np.abs(det) > 1e-6
    m = np.zeros((len(triangles), 2, 3), np.float64)
    # Solve dh @ X = s  →  X (3, 2) so that [x y 1] @ X = src.
    x = np.linalg.solve(dh[ok].astype(np.float64), s[ok].astype(np.float64))
    m[ok] = np.transpose(x, (0, 2, 1))
    # A collapsed triangle maps by the mean offset of its vertices.
    m[~ok, 0, 0] = 1.0
    m[~ok, 1, 1] = 1.0
    m[~ok, :, 2] = (s[~ok] - d[~ok]).mean(axis=1)
    return m.astype(np.float32)


def backward_map(
    ids: np.ndarray, affines: np.ndarray, scale: float = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    """Source coordinates (H, W, 2) float32 for covered pixels (NaN elsewhere) and the coverage mask.

    scale maps output pixel coordinates into the dst coordinate frame of the affines
    (used when the map is built at a different resolution).
    """
    h, w = ids.shape
    mask = ids >= 0
    out = np.full((h, w, 2), np.nan, np.float32)
    ys, xs = np.nonzero(mask)
    if ys.size:
        a = affines[ids[ys, xs]]  # (P, 2, 3)
        px = xs.astype(np.float32) * scale
        py = ys.astype(np.float32) * scale
        out[ys, xs, 0] = a[:, 0, 0] * px + a[:, 0, 1] * py + a[:, 0, 2]
        out[ys, xs, 1] = a[:, 1, 0] * px + a[:, 1, 1] * py + a[:, 1, 2]
    return out, mask
