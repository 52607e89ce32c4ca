"""Writes the data the live (TypeScript) retargeting needs from the Python reference:

- server/src/avatar/retarget/canonicalFaceMesh.json: MediaPipe's canonical face mesh vertices and
  Procrustes weights, read from face_landmarker.task (Apache-2.0, Google), with the bundle's sha256;
- server/src/avatar/retarget/testdata/retargetVectors.json: parity cases, each a driver neutral
  frame, driver frames and a target face, with the output of avatar_ml.landmarks.retarget.retarget.

Run: PYTHONPATH=models models/.venv/bin/python test/tools/generate-retarget-vectors.py
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from avatar_ml.landmarks.canonical_mesh import DEFAULT_TASK_PATH, load_canonical_mesh
from avatar_ml.landmarks.retarget import retarget
from avatar_ml.landmarks.track_io import LandmarkTrack, load_track

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "server/src/avatar/retarget"
LIB = ROOT / "models/motion_library"


def r(a: np.ndarray) -> list[float]:
    return [float(f"{v:.7g}") for v in np.asarray(a, np.float64).ravel()]


def case(name: str, driver: LandmarkTrack, neutral: int, frames: list[int], target: np.ndarray,
         size: tuple[int, int], gain: float = 1.0) -> dict:
    idx = [neutral] + frames
    sub = LandmarkTrack(driver.landmarks[idx], driver.transform[idx], driver.valid[idx], driver.fps,
                        driver.width, driver.height, driver.source)
    sub.landmarks = np.asarray(r(sub.landmarks), np.float32).reshape(sub.landmarks.shape)
    target = np.asarray(r(target), np.float32).reshape(478, 3)
    out = retarget(sub, 0, target, size, expression_gain=gain)
    return {
        "name": name,
        "driverSize": [driver.width, driver.height],
        "targetSize": list(size),
        "expressionGain": gain,
        "driverNeutral": r(sub.landmarks[0]),
        "driverFrames": [r(sub.landmarks[i]) for i in range(1, len(idx))],
        "target": r(target),
        "expected": [r(out.landmarks[i]) for i in range(1, len(idx))],
    }


def main() -> None:
    mesh = load_canonical_mesh()
    task = Path(DEFAULT_TASK_PATH).resolve()
    (OUT / "canonicalFaceMesh.json").write_text(json.dumps({
        "source": "face_landmarker.task (MediaPipe Face Landmarker float16 v1, Apache-2.0, Google): "
                  "geometry_pipeline_metadata_landmarks.binarypb",
        "sourceSha256": hashlib.sha256(task.read_bytes()).hexdigest(),
        "command": "PYTHONPATH=models models/.venv/bin/python test/tools/generate-retarget-vectors.py",
        "vertices": r(mesh.vertices),
        "procrustesIds": [int(i) for i in mesh.procrustes_ids],
        "procrustesWeights": r(mesh.procrustes_weights),
    }) + "\n")
    d10, d12, s0 = (load_track(LIB / f"{c}.npz") for c in ("d10", "d12", "s0"))
    cases = [
        case("d10 onto s0 (portrait)", d10, 0, [15, 60, 120, 200, 300], s0.landmarks[0], (s0.width, s0.height)),
        case("d12 onto d10 frame 0, gain 1.3", d12, 10, [40, 90, 150], d10.landmarks[0], (d10.width, d10.height), 1.3),
        case("d10 onto itself (identity)", d10, 0, [60, 240], d10.landmarks[0], (d10.width, d10.height)),
    ]
    (OUT / "testdata/retargetVectors.json").write_text(json.dumps({
        "command": "PYTHONPATH=models models/.venv/bin/python test/tools/generate-retarget-vectors.py",
        "reference": "models/avatar_ml/landmarks/retarget.py",
        "cases": cases,
    }) + "\n")


if __name__ == "__main__":
    main()
