"""ONNX inference of the shipped audio-to-mouth models (what the server runs, in Python).

`AudioToMouth.load(manifest_dir, model_name)` -> `.predict(audio_16k, reference_region)` gives the
mouth-region displacement (T,R,3) at the encoder's 50 Hz frame times. `choose_model` picks the fold
that never saw a clip (by its sha256) and the `all` model otherwise.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnxruntime as ort

from .model import frame_time_s, normalise_waveform


def _session(path: Path, threads: int = 1) -> ort.InferenceSession:
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])


def read_manifest(model_dir: Path) -> dict:
    path = Path(model_dir) / "manifest.json"
    if not path.exists():
        raise FileNotFoundError(f"no audio-to-mouth manifest at {path}; train with python -m avatar_ml.audio.train")
    return json.loads(path.read_text())


def choose_model(manifest: dict, clip_sha256: str | None, family: str = "default") -> dict:
    models = [m for m in manifest["models"] if m.get("family", "default") == family]
    if not models:
        raise ValueError(f"manifest has no model family {family!r}")
    for m in models:
        if clip_sha256 and m.get("held_out_sha256") == clip_sha256:
            return m
    for m in models:
        if m["name"].endswith("all"):
            if clip_sha256 and any(r["sha256"] == clip_sha256 for r in manifest["provenance"]["real_speech"]):
                raise ValueError("the clip was trained on by the 'all' model and has no leave-one-out fold")
            return m
    raise ValueError("manifest lists no 'all' model")


@dataclass
class AudioToMouth:
    encoder: ort.InferenceSession
    head: ort.InferenceSession
    name: str
    envelope_drive: dict | None = None  # the manifest entry's envelope_drive (envelope.py), if any

    @classmethod
    def load(cls, model_dir: Path, entry: dict, encoder_path: Path | None = None) -> "AudioToMouth":
        model_dir = Path(model_dir)
        enc = _session(encoder_path or model_dir / entry["encoder"])
        return cls(enc, _session(model_dir / entry["head"]), entry["name"], entry.get("envelope_drive"))

    def features(self, audio: np.ndarray) -> np.ndarray:
        x = normalise_waveform(audio)[None]
        return self.encoder.run(None, {self.encoder.get_inputs()[0].name: x})[0]

    def predict(self, audio: np.ndarray, reference_region: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """-> (displacement (T,R,3) canonical cm, frame times (T,) s)."""
        feats = self.features(audio).astype(np.float32)
        ref = np.asarray(reference_region, np.float32).reshape(1, -1)
        out = self.head.run(None, {"features": feats, "reference": ref})[0][0]
        return out.reshape(len(out), -1, 3), frame_time_s(np.arange(len(out)))


def resample_to(times_src: np.ndarray, values: np.ndarray, times_dst: np.ndarray) -> np.ndarray:
    """Linear interpolation of (T,...) values along time."""
    flat = values.reshape(len(values), -1)
    out = np.stack([np.interp(times_dst, times_src, flat[:, k]) for k in range(flat.shape[1])], axis=1)
    return out.reshape((len(times_dst),) + values.shape[1:])
