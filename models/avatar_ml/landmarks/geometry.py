"""MediaPipe's face geometry pipeline: screen landmarks -> facial transformation matrix.

Re-implements the FaceLandmarker's `FaceGeometryFromLandmarksGraph` (geometry_pipeline.cc and
procrustes_solver.cc of mediapipe/tasks/cc/vision/face_geometry) with the environment the tasks API
hard-codes: origin TOP_LEFT_CORNER, perspective camera with 63 degree vertical FOV, near 1 cm.
Batched over frames: every function takes (N, 468|478, 3) landmarks.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .canonical_mesh import CanonicalMesh

VERTICAL_FOV_DEGREES = 63.0
NEAR = 1.0
N_MESH = 468


def _frustum(width: int, height: int) -> tuple[float, float, float, float]:
    height_at_near = 2.0 * NEAR * np.tan(0.5 * np.deg2rad(VERTICAL_FOV_DEGREES))
    width_at_near = width * height_at_near / height
    return -0.5 * width_at_near, 0.5 * width_at_near, -0.5 * height_at_near, 0.5 * height_at_near


def solve_weighted_orthogonal(source: np.ndarray, target: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Weighted orthogonal Procrustes with uniform scale, as MediaPipe's ProcrustesSolver.

    source (P,3) canonical points, target (N,P,3), weights (P,) -> (N,4,4) transforms mapping
    source into target: target ~= s R source + t.
    """
    sw = np.sqrt(weights)[None, :, None]  # (1,P,1)
    ws = source[None] * sw  # weighted sources
    wt = target * sw
    total = np.sum(weights)
    src_com = np.sum(ws * sw, axis=1, keepdims=True) / total  # (1,1,3)
    cws = ws - src_com * sw  # centered weighted sources
    design = np.einsum("npi,npj->nij", wt, np.broadcast_to(cws, wt.shape))  # targets x sources^T
    u, _, vt = np.linalg.svd(design)
    flip = np.linalg.det(u) * np.linalg.det(vt) < 0
    u[flip, :, 2] *= -1
    rot = u @ vt  # (N,3,3)
    rotated = np.einsum("nij,npj->npi", rot, np.broadcast_to(cws, wt.shape))
    scale = np.sum(rotated * wt, axis=(1, 2)) / np.sum(cws * ws)
    rs = rot * scale[:, None, None]
    diffs = (wt - np.einsum("nij,npj->npi", rs, np.broadcast_to(ws, wt.shape))) * sw
    trans = np.sum(diffs, axis=1) / total
    out = np.zeros((len(target), 4, 4), np.float64)
    out[:, :3, :3] = rs
    out[:, :3, 3] = trans
    out[:, 3, 3] = 1.0
    return out


@dataclass
class MetricFace:
    """Landmarks lifted to MediaPipe's metric space (cm) and split into shape and pose."""

    metric: np.ndarray  # (N,P,3) pose-free metric landmarks in the canonical face's frame (P = 468 or 478)
    pose: np.ndarray  # (N,4,4) canonical frame -> camera (the facial transformation matrix)
    total_scale: np.ndarray  # (N,) screen-to-metric scale of the unprojection
    depth_offset: np.ndarray  # (N,) mean projected screen z of the mesh points


class GeometryPipeline:
    """Estimates the facial transformation matrix (canonical metric face -> camera space, cm)."""

    def __init__(self, mesh: CanonicalMesh):
        self._canonical = mesh.vertices.astype(np.float64)
        self._weights = mesh.landmark_weights.astype(np.float64)
        self._ids = np.nonzero(self._weights)[0]

    def _solve(self, pts: np.ndarray) -> np.ndarray:
        # Only landmarks with non-zero weight contribute: fitting on them alone is identical and faster.
        return solve_weighted_orthogonal(self._canonical[self._ids], pts[:, self._ids], self._weights[self._ids])

    def to_metric(self, landmarks: np.ndarray, width: int, height: int) -> MetricFace:
        """(N,P,3) normalized screen landmarks (P >= 468; iris points ride along) -> MetricFace.

        Exactly MediaPipe's ScreenToMetricSpaceConverter for the 468 mesh points (fit, scale and
        depth offset use them only); extra points are unprojected with the same scale and offset.
        """
        lm = np.asarray(landmarks, np.float64).copy()
        left, right, bottom, top = _frustum(width, height)
        x_scale, y_scale = right - left, top - bottom
        lm[..., 1] = 1.0 - lm[..., 1]  # TOP_LEFT_CORNER origin
        lm *= np.array([x_scale, y_scale, x_scale])
        lm[..., 0] += left
        lm[..., 1] += bottom
        depth_offset = lm[:, :N_MESH, 2].mean(axis=1, keepdims=True)

        inter = lm.copy()
        inter[..., 2] *= -1
        s1 = np.linalg.norm(self._solve(inter)[:, :3, 0], axis=1)[:, None]

        inter = lm.copy()
        inter[..., 2] = (inter[..., 2] - depth_offset + NEAR) / s1
        inter[..., :2] *= inter[..., 2:3] / NEAR
        inter[..., 2] *= -1
        s2 = np.linalg.norm(self._solve(inter)[:, :3, 0], axis=1)[:, None]

        metric = lm
        metric[..., 2] = (metric[..., 2] - depth_offset + NEAR) / (s1 * s2)
        metric[..., :2] *= metric[..., 2:3] / NEAR
        metric[..., 2] *= -1
        pose = self._solve(metric)
        inv = np.linalg.inv(pose)
        aligned = np.einsum("nij,npj->npi", inv[:, :3, :3], metric) + inv[:, None, :3, 3]
        return MetricFace(aligned, pose, (s1 * s2)[:, 0], depth_offset[:, 0])

    @staticmethod
    def to_screen(metric: np.ndarray, pose: np.ndarray, total_scale: np.ndarray, depth_offset: np.ndarray,
                  width: int, height: int) -> np.ndarray:
        """Inverse of `to_metric`: pose-free metric landmarks (N,P,3) -> normalized screen (N,P,3) float32.
        x, y are exact; z is MediaPipe's relative depth given the scale and depth offset."""
        left, right, bottom, top = _frustum(width, height)
        x_scale, y_scale = right - left, top - bottom
        cam = np.einsum("nij,npj->npi", pose[:, :3, :3], metric) + pose[:, None, :3, 3]
        zp = -cam[..., 2]  # positive distance in front of the camera
        xp = cam[..., 0] * NEAR / zp
        yp = cam[..., 1] * NEAR / zp
        zs = zp * np.asarray(total_scale)[:, None] + np.asarray(depth_offset)[:, None] - NEAR
        out = np.stack([(xp - left) / x_scale, 1.0 - (yp - bottom) / y_scale, zs / x_scale], axis=-1)
        return out.astype(np.float32)

    def screen_to_metric(self, landmarks: np.ndarray, width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
        """landmarks (N,>=468,3) normalized screen -> (metric mesh landmarks (N,468,3) in the canonical
        frame, pose transform (N,4,4))."""
        face = self.to_metric(np.asarray(landmarks)[:, :N_MESH], width, height)
        return face.metric.astype(np.float32), face.pose

    def transform(self, landmarks: np.ndarray, width: int, height: int) -> np.ndarray:
        """(N,>=468,3) normalized screen landmarks -> (N,4,4) float32 facial transformation matrices."""
        return self.screen_to_metric(landmarks, width, height)[1].astype(np.float32)
