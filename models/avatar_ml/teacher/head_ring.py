"""A 3D head proxy around the face: a ring of virtual vertices just outside the face oval, bent
backwards like the side of a skull, moved by the head's rigid 3D motion.

The canonical mesh stops at the face oval. Without this ring, a turning head compresses its far
cheek while the skin/hair just outside the oval stays put, and the source's wider face shows
through beside the driven one (a double contour). The ring is rasterised with the mesh (depth
ordered, so it passes behind the face on a turn), carrying the hair next to the face with the
head's rotation and foreshortening.
"""

from __future__ import annotations

import numpy as np

from .topology import FACE_OVAL, RIGID_LANDMARKS


def umeyama(a: np.ndarray, b: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """Similarity (s, R, t) with b ≈ s R a + t for (N,3) point sets (least squares)."""
    ca, cb = a.mean(axis=0), b.mean(axis=0)
    a0, b0 = a - ca, b - cb
    cov = b0.T @ a0 / len(a)
    u, d, vt = np.linalg.svd(cov)
    e = np.eye(3)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        e[2, 2] = -1
    r = u @ e @ vt
    var = (a0**2).sum() / len(a)
    s = float(np.trace(np.diag(d) @ e) / max(var, 1e-12))
    return s, r, cb - s * r @ ca


def ring_triangles(n_mesh: int = 468) -> np.ndarray:
    """(2K, 3) triangles joining the face oval (mesh indices) to the virtual ring (n_mesh + k)."""
    k = len(FACE_OVAL)
    tris = []
    for i in range(k):
        j = (i + 1) % k
        oi, oj = FACE_OVAL[i], FACE_OVAL[j]
        vi, vj = n_mesh + i, n_mesh + j
        tris += [(oi, oj, vi), (oj, vj, vi)]
    return np.asarray(tris, np.int32)


def ring_vertices(src3: np.ndarray, width: float, back: float, chin_scale: float) -> np.ndarray:
    """(K, 3) virtual vertices in the source: each oval vertex pushed outwards (in the image plane,
    from the oval's centre) by `width` face heights and backwards by `back` times that; towards the
    chin the ring narrows to `chin_scale` of its width (the neck does not turn with the head)."""
    oval = src3[FACE_OVAL]
    centre = oval[:, :2].mean(axis=0)
    top, chin = src3[10, :2], src3[152, :2]
    fh = float(np.linalg.norm(top - chin))
    up = (top - chin) / max(fh, 1e-6)
    out = oval[:, :2] - centre
    out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-6)
    height = np.clip(((oval[:, :2] - chin) @ up) / max(fh, 1e-6), 0.0, 1.0)
    w = width * fh * (chin_scale + (1 - chin_scale) * height)
    ring = oval.copy()
    ring[:, :2] += out * w[:, None]
    ring[:, 2] += back * w
    return ring


def drive_ring(src3: np.ndarray, dst3: np.ndarray, ring_src: np.ndarray) -> np.ndarray:
    """The ring moved by the rigid 3D motion fitted on skull-fixed landmarks (source → driven)."""
    s, r, t = umeyama(src3[RIGID_LANDMARKS], dst3[RIGID_LANDMARKS])
    return (s * (r @ ring_src.T)).T + t
