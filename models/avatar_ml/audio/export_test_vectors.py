"""Writes server/src/audio/testdata/composeVectors.json (Python's mouth-space results on a real
reference face, for the TypeScript FaceComposer's parity test) and envelopeVectors.json (the
envelope follower and opening mix on real speech, for MouthEnvelope's parity test).

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
    write_envelope_vectors(region, rng)


def write_envelope_vectors(region: np.ndarray, rng: np.random.Generator) -> None:
    from . import envelope as env
    from .clips import load_audio
    from .mouth_space import LOWER_INNER, UPPER_INNER

    audio = np.concatenate([np.zeros(8000, np.float32), load_audio(SPEECH_CLIPS[2])[:16000 * 3],
                            np.zeros(16000, np.float32)])
    params = env.EnvelopeParams()
    rms = env.frame_rms(audio)
    f = env.EnvelopeFollower(params)
    follower = [f.step(float(r)) for r in rms]
    regs = list(mouth_region())
    up, lo = regs.index(UPPER_INNER), regs.index(LOWER_INNER)
    delta = rng.normal(0, 0.05, (5,) + region.shape)
    direction = rng.normal(0, 0.2, region.shape)
    direction /= env.gap_of(direction, up, lo)
    e = np.linspace(0, 1, 5)
    mixed = env.mix(delta, e, direction, 1.2, 0.6, up, lo)
    out = {
        "source": f"{SPEECH_CLIPS[2].name}: 0.5 s silence + its first 3 s + 1 s silence",
        "params": params.to_json(),
        "rms": np.round(rms, 8).tolist(),
        "follower": np.round(follower, 7).tolist(),
        "envelope": np.round(env.envelope(audio, params), 7).tolist(),
        "mix": {"delta": np.round(delta.reshape(5, -1), 6).tolist(), "e": e.tolist(),
                "direction": np.round(direction.reshape(-1), 6).tolist(), "full_gap_cm": 1.2, "weight": 0.6,
                "up": up, "lo": lo, "mixed": np.round(mixed.reshape(5, -1), 6).tolist()},
    }
    path = REPO_ROOT / "server" / "src" / "audio" / "testdata" / "envelopeVectors.json"
    path.write_text(json.dumps(out) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
