"""Writes server/src/audio/testdata/composeVectors.json: Python's mouth-space results on a real
reference face, for the TypeScript FaceComposer's parity test.

    PYTHONPATH=models models/.venv/bin/python -m avatar_ml.audio.export_test_vectors
"""

from __future__ import annotations

import json

import numpy as np

from .clips import REPO_ROOT, SPEECH_CLIPS, landmark_track
from ..teacher.topology import RIGID_LANDMARKS
from .mouth_space import apply_mouth, canonical_vertices, mouth_region, to_canonical, to_pixels


def main() -> None:
    track = landmark_track(SPEECH_CLIPS[1])
    ref = track.landmarks[0]
    shape, _ = to_canonical(to_pixels(ref[None], track.width, track.height))
    region = shape[0, mouth_region()]
    rng = np.random.default_rng(0)
    delta = np.zeros_like(region)
    lower_lip_y = shape[0, 14, 1]
    delta[:, 1] = np.where(region[:, 1] <= lower_lip_y + 0.05, -0.4, 0.0)  # the jaw drops (canonical y is up)
    delta += rng.normal(0, 0.02, delta.shape)
    composed = apply_mouth(ref[None], track.width, track.height, delta[None], region)[0]
    out = {
        "source": f"{SPEECH_CLIPS[1].name} frame 0",
        "mouth_region": mouth_region().tolist(),
        "rigid_landmarks": RIGID_LANDMARKS.tolist(),
        "canonical_rigid": np.round(canonical_vertices()[RIGID_LANDMARKS], 5).tolist(),
        "imageWidth": track.width, "imageHeight": track.height,
        "reference": np.round(ref.reshape(-1).astype(float), 7).tolist(),
        "referenceRegion": np.round(region.reshape(-1), 6).tolist(),
        "delta": np.round(delta.reshape(-1), 6).tolist(),
        "composed": np.round(composed.reshape(-1).astype(float), 7).tolist(),
    }
    path = REPO_ROOT / "server" / "src" / "audio" / "testdata" / "composeVectors.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
