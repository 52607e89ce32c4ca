"""Teacher v1: one source portrait + its landmarks + driving landmarks → frames of that person.

Pipeline per frame (all at the output resolution, source resampled once at onboarding):
1. backward warp field: depth-ordered canonical-mesh warp inside the face, smooth decaying
   displacement outside it (hair, neck, shoulders follow; far background stays) — `flow.py`;
   outside the face oval the field comes from landmarks whose small rigid head motion is shrunk
   towards zero (`rigid_deadzone_px`), so pose jitter does not shimmer still hair, while the face
   itself follows the landmarks fully; the two fields are blended over a feathered face-oval mask;
2. the source and its iris-free sclera plate are resampled through that field;
   the moving foreground (GrabCut matte of head, hair, body) is layered over an inpainted
   background plate, so the background stays put and uncovered areas show background — `matting.py`;
3. eyeballs are re-synthesised inside the driven lid contours (blinks, gaze) — `eyes.py`;
4. a mouth interior is synthesised when the driven mouth opens wider than the source's — `mouth.py`.
Composites use anti-aliased, feathered masks so no seam shows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from .eyes import build_eye_models, composite_eyes, composite_lids
from .flow import FlowParams, mesh_backward_map, similarity_fit
from .head_ring import drive_ring, ring_triangles, ring_vertices
from .matting import background_plate, foreground_alpha
from .mouth import MouthStyle, build_mouth_model, composite_mouth
from .restore import restore_source
from .topology import FACE_OVAL, RIGID_LANDMARKS

LANDMARK_COUNT = 478
MESH_VERTICES = 468


@dataclass(frozen=True)
class TeacherConfig:
    out_size: int = 512
    flow: FlowParams = field(default_factory=FlowParams)
    eyes: bool = True
    mouth: bool = True
    mouth_style: MouthStyle = field(default_factory=MouthStyle)
    # One-shot source restoration at onboarding: edge-preserving denoising (grain, JPEG blocking).
    restore: bool = True
    restore_sharpen: float = 0.0  # unsharp amount after denoising (0: none)
    restore_sigma_color: float = 30.0
    # Landmark noise floor (px at 512): per-vertex displacements from the source smaller than this
    # are shrunk towards zero (Wiener-like: d·|d|²/(|d|²+τ²)), so tracker jitter does not shimmer a still face.
    deadzone_px: float = 1.0
    # The same shrinkage for the head's rigid motion as a whole (2D similarity on skull-fixed landmarks,
    # RMS displacement over the mesh), for everything outside the face oval only: hair, neck and the
    # head ring hold still under tracker jitter of the head pose, while the face itself keeps the full
    # motion (eyes and mouth must land where the landmarks are). The two backward maps are blended
    # over a feathered face-oval mask (0: off, one map).
    rigid_deadzone_px: float = 3.0
    rigid_deadzone_feather: float = 0.01  # blend width at the face oval (face heights)
    # The same shrinkage for the head-ring vertices: they sit outside the face, where the rigid fit's
    # jitter is amplified by the lever arm; small ring motion shimmered still hair (d19: -0.007 SSIM).
    ring_deadzone_px: float = 8.0
    cubic: bool = False  # bicubic instead of bilinear resampling of the source
    matte: bool = True  # layer the moving foreground over an inpainted, steady background plate
    # The background plate keeps the source wherever the matte is below this, so the soft matte edge
    # of a still head composites back to the source instead of a blend with the inpainted fill.
    plate_keep_below: float = 0.97
    # Semi-axes (face widths / heights) of a sure-foreground head ellipse in the GrabCut seeds, so hair
    # next to the face that shares the wall's colours stays with the head (0: off).
    matte_sure_head: float = 0.55


def _triangles(task_path: str | Path | None) -> np.ndarray:
    from ..landmarks.canonical_mesh import load_canonical_mesh

    mesh = load_canonical_mesh(task_path) if task_path else load_canonical_mesh()
    return mesh.triangles


def _check_landmarks(lm: np.ndarray, what: str) -> np.ndarray:
    lm = np.asarray(lm, np.float32)
    if lm.ndim != 2 or lm.shape[0] != LANDMARK_COUNT or lm.shape[1] < 2:
        raise ValueError(f"{what}: expected (478, 2|3) landmarks, got {lm.shape}")
    if not np.all(np.isfinite(lm)):
        raise ValueError(f"{what}: landmarks contain NaN/inf")
    if lm.shape[1] == 2:
        lm = np.concatenate([lm, np.zeros((LANDMARK_COUNT, 1), np.float32)], axis=1)
    return lm[:, :3]


class TeacherRenderer:
    """An onboarded identity. Create with `TeacherRenderer.create(...)`; render with `.render(...)`."""

    def __init__(
        self, source: np.ndarray, source_landmarks: np.ndarray, triangles: np.ndarray, config: TeacherConfig
    ) -> None:
        s = config.out_size
        self.config = config
        self.triangles = triangles
        self.source_landmarks = source_landmarks
        src = cv2.resize(source, (s, s), interpolation=cv2.INTER_AREA if source.shape[0] > s else cv2.INTER_CUBIC)
        if config.restore:
            src = restore_source(src, config.restore_sharpen, config.restore_sigma_color)
        self.source = src
        self.src_px = self._to_px(source_landmarks)
        skin = src[cv2.fillPoly(np.zeros((s, s), np.uint8), [np.round(self.src_px[[234, 93, 132, 58, 172, 136, 150, 149, 176, 148, 152, 377, 400, 378, 379, 365, 397, 288, 361, 323, 454]]).astype(np.int32)], 1) > 0]
        lum = float(np.median(skin.mean(axis=1))) if len(skin) else 150.0
        self.brightness = float(np.clip(lum / 150.0, 0.4, 1.4))
        if config.matte:
            self.alpha = foreground_alpha(src, self.src_px, sure_head=config.matte_sure_head)
            self.background = background_plate(src, self.alpha, keep_below=config.plate_keep_below).astype(np.float32)
        self.eye_models, self.plate = build_eye_models(src, self.src_px, self.brightness)
        self.mouth_model = build_mouth_model(src, self.src_px, self.brightness)

    @classmethod
    def create(
        cls,
        source_rgb: np.ndarray,
        source_landmarks: np.ndarray | None = None,
        *,
        config: TeacherConfig | None = None,
        extractor=None,
        task_path: str | Path | None = None,
    ) -> "TeacherRenderer":
        """Onboards a square RGB uint8 portrait; detects its landmarks if not given."""
        source_rgb = np.asarray(source_rgb)
        if source_rgb.ndim != 3 or source_rgb.shape[2] != 3 or source_rgb.dtype != np.uint8:
            raise ValueError(f"source must be HxWx3 uint8 RGB, got {source_rgb.shape} {source_rgb.dtype}")
        if source_rgb.shape[0] != source_rgb.shape[1]:
            raise ValueError("source must be square (crop it first)")
        if source_landmarks is None:
            if extractor is None:
                from ..landmarks.extractor import FaceLandmarkExtractor

                extractor = FaceLandmarkExtractor(task_path) if task_path else FaceLandmarkExtractor()
            face = extractor.detect(source_rgb)
            if face is None:
                raise ValueError("no face found in the source portrait")
            source_landmarks = face.landmarks
        lm = _check_landmarks(source_landmarks, "source landmarks")
        return cls(source_rgb, lm, _triangles(task_path), config or TeacherConfig())

    def _deadzone(self, d: np.ndarray, px_at_512: float, mag2: np.ndarray | float | None = None) -> np.ndarray:
        """Displacements d (N, 2) shrunk by |d|²/(|d|²+τ²) (Wiener-like): ~0 below τ (tracker jitter),
        ~unchanged well above it. τ is `px_at_512` scaled to the output size; `mag2` overrides |d|²
        per row (e.g. one RMS value for a rigid motion as a whole)."""
        tau = px_at_512 * self.config.out_size / 512.0
        if mag2 is None:
            mag2 = np.sum(d * d, axis=1, keepdims=True)
        return d * (mag2 / (mag2 + tau * tau))

    def _to_px(self, lm: np.ndarray) -> np.ndarray:
        s = self.config.out_size
        return lm[:, :2] * s - 0.5

    def render(self, driving: np.ndarray) -> np.ndarray:
        """(478, 3) → (S, S, 3) uint8, or a batch (B, 478, 3) → (B, S, S, 3)."""
        driving = np.asarray(driving, np.float32)
        if driving.ndim == 2:
            return self._render_one(_check_landmarks(driving, "driving landmarks"))
        return np.stack([self._render_one(_check_landmarks(d, f"driving landmarks [{i}]")) for i, d in enumerate(driving)])

    def _backward_map(self, dst_px: np.ndarray, lm: np.ndarray, face_h: float) -> np.ndarray:
        """(S, S, 2) backward map into the source for driven pixel landmarks (mesh, head ring, exterior)."""
        s = self.config.out_size
        mesh_src = self.src_px[:MESH_VERTICES]
        mesh_dst = dst_px[:MESH_VERTICES]
        depth = lm[:MESH_VERTICES, 2] * s
        triangles = self.triangles
        fp = self.config.flow
        if fp.head_ring > 0:
            src3 = np.concatenate([self.src_px, self.source_landmarks[:, 2:3] * s], axis=1)[:MESH_VERTICES]
            dst3 = np.concatenate([dst_px, lm[:, 2:3] * s], axis=1)[:MESH_VERTICES]
            ring_src = ring_vertices(src3, fp.head_ring, fp.head_ring_back, fp.head_ring_chin)
            ring_dst = drive_ring(src3, dst3, ring_src)
            if self.config.ring_deadzone_px > 0:
                ring_dst[:, :2] = ring_src[:, :2] + self._deadzone(ring_dst[:, :2] - ring_src[:, :2], self.config.ring_deadzone_px)
            mesh_src = np.concatenate([mesh_src, ring_src[:, :2]])
            mesh_dst = np.concatenate([mesh_dst, ring_dst[:, :2]])
            depth = np.concatenate([depth, ring_dst[:, 2]])
            triangles = np.concatenate([triangles, ring_triangles(MESH_VERTICES)])
        m, _ = mesh_backward_map(mesh_src, mesh_dst, depth, triangles, (s, s), 1.0, face_h, fp,
                                 src_depth=self.source_landmarks[:MESH_VERTICES, 2] * s)
        return m

    def _render_one(self, lm: np.ndarray) -> np.ndarray:
        s = self.config.out_size
        dst_px = self._to_px(lm)
        if self.config.deadzone_px > 0:
            dst_px = self.src_px + self._deadzone(dst_px - self.src_px, self.config.deadzone_px)
        face_h = float(np.linalg.norm(dst_px[10] - dst_px[152]))
        m = self._backward_map(dst_px, lm, face_h)
        if self.config.rigid_deadzone_px > 0:
            tau = self.config.rigid_deadzone_px * s / 512.0
            sim = similarity_fit(self.src_px[RIGID_LANDMARKS], dst_px[RIGID_LANDMARKS])
            d = self.src_px @ sim[:, :2].T + sim[:, 2] - self.src_px  # the rigid part of the motion
            mag2 = float(np.mean(np.sum(d[:MESH_VERTICES] ** 2, axis=1)))
            if mag2 < 100 * tau * tau:  # a large motion is kept as it is (shrink < 1%)
                # The rigid part shrunk as one (by its RMS over the mesh), the rest of the motion kept.
                still = dst_px - d + self._deadzone(d, self.config.rigid_deadzone_px, mag2)
                m_ext = self._backward_map(still, lm, face_h)
                face = np.zeros((s, s), np.uint8)
                cv2.fillPoly(face, [np.round(dst_px[FACE_OVAL] * 16).astype(np.int32)], 255, cv2.LINE_AA, shift=4)
                face = cv2.GaussianBlur(face.astype(np.float32) / 255.0, (0, 0), max(self.config.rigid_deadzone_feather * face_h, 0.5))
                m = m_ext + (m - m_ext) * face[..., None]
        mx, my = m[..., 0], m[..., 1]
        interp = cv2.INTER_CUBIC if self.config.cubic else cv2.INTER_LINEAR
        out = cv2.remap(self.source, mx, my, interp, borderMode=cv2.BORDER_REPLICATE).astype(np.float32)
        if self.config.matte:
            a = cv2.remap(self.alpha, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
            out = out * a[..., None] + self.background * (1 - a[..., None])
        if self.config.eyes:
            plate = cv2.remap(self.plate, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
            composite_lids(out, dst_px, self.eye_models)
            composite_eyes(out, plate, dst_px, self.eye_models)
        if self.config.mouth:
            composite_mouth(out, dst_px, self.mouth_model, self.config.mouth_style)
        return np.clip(out + 0.5, 0, 255).astype(np.uint8)
