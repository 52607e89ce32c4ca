"""Runs the real face-api in Node (models/identity/faceApiReference.ts) on numpy images.

Used only to verify the PyTorch port (parity tests and `python -m avatar_ml.identity.parity`).
The job and its answer follow shared/src/identity/faceApiJob.ts; the Node side parses both with
zod, and this side checks the answer's shape before using it.
"""

from __future__ import annotations

import base64
import json
import subprocess
from dataclasses import dataclass
from typing import Literal

import numpy as np

from .embedder import EMBEDDING_SIZE
from .weights import FACE_API_MODEL_DIR, REPO_ROOT

SCRIPT = REPO_ROOT / "models" / "identity" / "faceApiReference.ts"
TSX = REPO_ROOT / "node_modules" / ".bin" / "tsx"

Task = Literal["descriptor", "detect"]


class FaceApiReferenceError(RuntimeError):
    """The Node reference failed or answered something unexpected."""


@dataclass(frozen=True)
class FaceApiFace:
    score: float
    detection_box: tuple[float, float, float, float]
    aligned_box: tuple[int, int, int, int]
    landmarks68: np.ndarray  # (68,2) pixels
    descriptor: np.ndarray   # (128,)


def _box(raw: object) -> tuple[float, float, float, float]:
    if not isinstance(raw, dict):
        raise FaceApiReferenceError(f"bad box {raw!r}")
    return tuple(float(raw[k]) for k in ("x", "y", "width", "height"))  # type: ignore[return-value]


def _descriptor(raw: object) -> np.ndarray:
    arr = np.asarray(raw, dtype=np.float32)
    if arr.shape != (EMBEDDING_SIZE,) or not np.all(np.isfinite(arr)):
        raise FaceApiReferenceError(f"bad descriptor of shape {arr.shape}")
    return arr


def _face(raw: object) -> FaceApiFace | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise FaceApiReferenceError(f"bad face {raw!r}")
    lm = np.asarray(raw["landmarks68"], dtype=np.float64)
    if lm.shape != (68, 2):
        raise FaceApiReferenceError(f"bad landmarks of shape {lm.shape}")
    ab = _box(raw["alignedBox"])
    return FaceApiFace(float(raw["score"]), _box(raw["detectionBox"]),
                       (int(ab[0]), int(ab[1]), int(ab[2]), int(ab[3])), lm,
                       _descriptor(raw["descriptor"]))


def run_faceapi(images: list[np.ndarray], task: Task, backend: str = "cpu",
                timeout_s: float = 600.0) -> list[np.ndarray] | list[FaceApiFace | None]:
    """descriptor: (128,) per face crop. detect: FaceApiFace (or None) per frame."""
    if not TSX.exists():
        raise FaceApiReferenceError(f"{TSX} missing: run `npm ci`")
    items = []
    for i, img in enumerate(images):
        arr = np.ascontiguousarray(img, dtype=np.uint8)
        if arr.ndim != 3 or arr.shape[2] != 3:
            raise ValueError(f"image {i}: expected HxWx3 RGB, got {arr.shape}")
        items.append({"id": str(i), "width": arr.shape[1], "height": arr.shape[0], "task": task,
                      "rgbBase64": base64.b64encode(arr.tobytes()).decode("ascii")})
    job = {"backend": backend, "modelDir": str(FACE_API_MODEL_DIR), "images": items}
    proc = subprocess.run([str(TSX), str(SCRIPT)], input=json.dumps(job).encode(),
                          capture_output=True, cwd=REPO_ROOT, timeout=timeout_s, check=False)
    if proc.returncode != 0:
        raise FaceApiReferenceError(proc.stderr.decode(errors="replace").strip()[-2000:])
    lines = [ln for ln in proc.stdout.decode().splitlines() if ln.startswith("{")]
    if len(lines) != 1:
        raise FaceApiReferenceError(f"expected one JSON line, got {len(lines)}")
    output = json.loads(lines[0])
    results = output.get("results") if isinstance(output, dict) else None
    if not isinstance(results, list) or len(results) != len(images):
        raise FaceApiReferenceError("the answer does not have one result per image")
    ordered = sorted(results, key=lambda r: int(r["id"]))
    if task == "descriptor":
        return [_descriptor(r["descriptor"]) for r in ordered]
    return [_face(r["face"]) for r in ordered]
