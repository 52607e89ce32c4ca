"""The canonical mouth space of the audio-to-mouth model.

A face's 478 landmarks (browser coordinates: x, y normalised to the image, z in x's scale) are
brought into MediaPipe's canonical face frame by a similarity fit (Umeyama: scale, rotation,
translation) of the skull-fixed landmarks (`topology.RIGID_LANDMARKS`) in pixels onto the
canonical mesh's vertices (cm). In that pose-free frame the mouth region (`MOUTH_REGION`: lips,
chin and lower cheeks, every mesh vertex below the nose) moves only with speech and expression;
the model predicts its displacement from the identity's own reference shape, in canonical cm.

The same weak-perspective fit runs in the server (server/src/audio/mouthSpace.ts), which reads the
point sets and canonical coordinates from the model manifest, so training and serving agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ..landmarks.canonical_mesh import DEFAULT_TASK_PATH, load_canonical_mesh
from ..teacher.topology import RIGID_LANDMARKS

# Subnasale: vertices of the canonical mesh below it (larger canonical y is up) form the region.
SUBNASALE = 2
# Reference points of the opening measure (same as the harness's mouth_opening).
UPPER_INNER, LOWER_INNER, LEFT_CORNER, RIGHT_CORNER = 13, 14, 308, 78


@lru_cache(maxsize=1)
def canonical_vertices() -> np.ndarray:
    """(468,3) float64 canonical face mesh vertices in cm (MediaPipe's canonical frame, y up)."""
    return load_canonical_mesh(DEFAULT_TASK_PATH).vertices.astype(np.float64)


@lru_cache(maxsize=1)
def mouth_region() -> np.ndarray:
    """Sorted landmark indices of the mouth/jaw region (every mesh vertex below the subnasale)."""
    v = canonical_vertices()
    idx = np.nonzero(v[:, 1] < v[SUBNASALE, 1] - 0.05)[0]
    return idx.astype(np.int64)


@dataclass(frozen=True)
class Similarity:
    """x_px = scale * rotation @ x_canonical + translation, batched over frames."""

    scale: np.ndarray  # (N,)
    rotation: np.ndarray  # (N,3,3)
    translation: np.ndarray  # (N,3)


def to_pixels(landmarks: np.ndarray, width: int, height: int) -> np.ndarray:
    """(...,478,3) normalised landmarks -> pixels (z scaled like x)."""
    return np.asarray(landmarks, np.float64) * np.array([width, height, width], np.float64)


def fit_similarity(landmarks_px: np.ndarray) -> Similarity:
    """Umeyama fit of the canonical rigid vertices onto (N,478,3) pixel landmarks. The image y axis
    points down while the canonical one points up, so the fit includes that reflection's fix: the
    canonical y and z are flipped first (a proper rotation remains)."""
    lm = np.asarray(landmarks_px, np.float64)
    src = canonical_vertices()[RIGID_LANDMARKS] * np.array([1.0, -1.0, -1.0])
    dst = lm[:, RIGID_LANDMARKS]
    mu_s = src.mean(axis=0)
    mu_d = dst.mean(axis=1)
    s0 = src - mu_s
    d0 = dst - mu_d[:, None]
    cov = np.einsum("npi,pj->nij", d0, s0) / len(src)
    u, sig, vt = np.linalg.svd(cov)
    det = np.sign(np.linalg.det(u @ vt))
    fix = np.ones((len(lm), 3))
    fix[:, 2] = det
    rot = u @ (fix[:, :, None] * vt)
    var_s = (s0**2).sum() / len(src)
    scale = (sig * fix).sum(axis=1) / var_s
    trans = mu_d - scale[:, None] * np.einsum("nij,j->ni", rot, mu_s)
    return Similarity(scale, rot, trans)


_FLIP = np.array([1.0, -1.0, -1.0])


def to_canonical(landmarks_px: np.ndarray, sim: Similarity | None = None) -> tuple[np.ndarray, Similarity]:
    """(N,478,3) pixel landmarks -> ((N,478,3) pose-free shape in canonical cm, y up; the fit)."""
    lm = np.asarray(landmarks_px, np.float64)
    sim = sim or fit_similarity(lm)
    local = np.einsum("nji,npj->npi", sim.rotation, lm - sim.translation[:, None]) / sim.scale[:, None, None]
    return local * _FLIP, sim


def from_canonical(shape: np.ndarray, sim: Similarity) -> np.ndarray:
    """Inverse of `to_canonical`: (N,P,3) canonical cm -> (N,P,3) pixels."""
    local = np.asarray(shape, np.float64) * _FLIP
    return sim.scale[:, None, None] * np.einsum("nij,npj->npi", sim.rotation, local) + sim.translation[:, None]


def opening(shape_or_landmarks: np.ndarray) -> np.ndarray:
    """Inner-lip gap over mouth width for (...,478,>=2) landmarks or canonical shapes."""
    p = np.asarray(shape_or_landmarks)[..., :2]
    gap = np.linalg.norm(p[..., UPPER_INNER, :] - p[..., LOWER_INNER, :], axis=-1)
    width = np.linalg.norm(p[..., LEFT_CORNER, :] - p[..., RIGHT_CORNER, :], axis=-1)
    return gap / np.maximum(width, 1e-9)


def apply_mouth(landmarks: np.ndarray, width: int, height: int, mouth_delta: np.ndarray,
                reference_mouth: np.ndarray) -> np.ndarray:
    """Puts a predicted mouth into real frames: (N,478,3) normalised landmarks give each frame's
    pose; the region's canonical shape becomes `reference_mouth + mouth_delta` ((R,3) + (N,R,3),
    canonical cm); returns (N,478,3) normalised landmarks with the region replaced."""
    px = to_pixels(landmarks, width, height)
    _, sim = to_canonical(px)
    region = mouth_region()
    shape = np.asarray(reference_mouth)[None] + np.asarray(mouth_delta)
    out = np.asarray(landmarks, np.float64).copy()
    out[:, region] = from_canonical(shape, sim) / np.array([width, height, width])
    return out.astype(np.float32)
