"""IdentityEmbedder: 128-d face descriptors (face-api's recogniser) for face crops or frames."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Literal, Protocol

import numpy as np

from .alignment import (AlignMode, align_face, prepare_crop, ref_points_from_ibug68,
                        ref_points_from_mediapipe)
from .recognition_onnx import OnnxRecognitionNet
from .weights import FACE_API_MODEL_DIR, load_recognition_weights

EMBEDDING_SIZE = 128

Runtime = Literal["onnxruntime", "torch"]


class _Detector(Protocol):
    def detect(self, rgb: np.ndarray): ...  # -> object with .landmarks (478,3) | None


class _Net(Protocol):
    def forward(self, batch_nhwc: np.ndarray) -> np.ndarray: ...


class IdentityEmbedder:
    """Loads the recogniser once; `embed` is deterministic (same input -> same output).

    runtime: "onnxruntime" (default; ~2x faster on CPU) runs the port as an ONNX graph built from
    the same weights; "torch" runs it eagerly. Both match face-api to ~3e-7 (see parity.py).
    align: "faceapi" (default) reproduces face-api's axis-aligned box; "similarity" also removes
    the head roll. Measured on ../shared/media both separate people equally well (models/README.md).
    """

    def __init__(self, model_dir: Path = FACE_API_MODEL_DIR, align: AlignMode = "faceapi",
                 batch_size: int = 16, runtime: Runtime = "onnxruntime", threads: int = 2) -> None:
        weights = load_recognition_weights(Path(model_dir))
        if runtime == "onnxruntime":
            self._net: _Net = OnnxRecognitionNet(weights, threads)
        elif runtime == "torch":
            from .recognition_net import RecognitionNet  # torch is slow to import; only if asked
            self._net = RecognitionNet(weights)
        else:
            raise ValueError(f"unknown runtime {runtime!r}")
        self._align: AlignMode = align
        self._batch_size = batch_size

    @property
    def align_mode(self) -> AlignMode:
        return self._align

    def embed(self, images: Sequence[np.ndarray],
              landmarks: Sequence[np.ndarray] | None = None) -> np.ndarray:
        """(N,128) float32 descriptors.

        images: RGB uint8 HxWx3 arrays. Without `landmarks` each image is taken as a face crop
        (padded to square and resized to 150x150 as face-api does). With `landmarks`, one per
        image: MediaPipe (478,3) points with x,y normalised to the image, or iBUG-68 (68,2)
        pixel points; the face is cut out with face-api's landmark alignment first.
        """
        if landmarks is not None and len(landmarks) != len(images):
            raise ValueError(f"{len(images)} images but {len(landmarks)} landmark sets")
        inputs = [self._network_input(img, None if landmarks is None else landmarks[i])
                  for i, img in enumerate(images)]
        return self._run(inputs)

    def embed_frames(self, frames: Sequence[np.ndarray], detector: _Detector | None = None
                     ) -> np.ndarray:
        """(N,128) descriptors of full frames, finding the face with MediaPipe landmarks.

        Rows of frames where no face is found are NaN (so a distance to them is NaN too).
        `detector` defaults to avatar_ml.landmarks' FaceLandmarkExtractor.
        """
        if detector is None:
            from avatar_ml.landmarks.extractor import FaceLandmarkExtractor
            detector = FaceLandmarkExtractor()
        out = np.full((len(frames), EMBEDDING_SIZE), np.nan, dtype=np.float32)
        found: list[int] = []
        inputs: list[np.ndarray] = []
        for i, frame in enumerate(frames):
            face = detector.detect(frame)
            if face is None:
                continue
            found.append(i)
            inputs.append(self._network_input(frame, face.landmarks))
        if inputs:
            out[found] = self._run(inputs)
        return out

    def _network_input(self, image: np.ndarray, landmarks: np.ndarray | None) -> np.ndarray:
        img = np.asarray(image)
        if img.ndim != 3 or img.shape[2] != 3:
            raise ValueError(f"expected an RGB HxWx3 image, got shape {img.shape}")
        if landmarks is None:
            return prepare_crop(img)
        lm = np.asarray(landmarks)
        h, w = img.shape[:2]
        ref = ref_points_from_ibug68(lm) if lm.shape == (68, 2) else \
            ref_points_from_mediapipe(lm, w, h)
        return align_face(img, ref, self._align)

    def _run(self, inputs: list[np.ndarray]) -> np.ndarray:
        if not inputs:
            return np.zeros((0, EMBEDDING_SIZE), dtype=np.float32)
        chunks = [self._net.forward(np.stack(inputs[i:i + self._batch_size]))
                  for i in range(0, len(inputs), self._batch_size)]
        return np.concatenate(chunks).astype(np.float32)


def identity_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Euclidean distance between two 128-d descriptors, as face-api's euclideanDistance.
    Lower is more alike; 0.6 is the usual same-person threshold."""
    va = np.asarray(a, dtype=np.float64).reshape(-1)
    vb = np.asarray(b, dtype=np.float64).reshape(-1)
    if va.shape != (EMBEDDING_SIZE,) or vb.shape != (EMBEDDING_SIZE,):
        raise ValueError(f"expected two {EMBEDDING_SIZE}-d descriptors, got {va.shape}, {vb.shape}")
    return float(np.linalg.norm(va - vb))


def identity_distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise distances between (N,128) descriptors and (N,128) or one (128,) descriptor."""
    va = np.asarray(a, dtype=np.float64)
    vb = np.asarray(b, dtype=np.float64)
    return np.linalg.norm(va - vb, axis=-1)


SAME_PERSON_THRESHOLD = 0.6
