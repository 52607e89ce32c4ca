"""LandmarkTrack: per-frame MediaPipe face landmarks of a clip, and its .npz file format.

File format (numpy .npz, `np.load(path)`):

| key              | dtype / shape          | meaning |
|------------------|------------------------|---------|
| `format`         | str                    | `"avatar_ml.landmark_track"` |
| `version`        | int                    | `1` |
| `landmarks`      | float32 (T,478,3)      | x, y normalized to the frame [0,1] (may leave it), z as MediaPipe (same scale as x); NaN where `valid` is false |
| `landmarks_q`    | uint16 (T,478,3)       | instead of `landmarks` when quantized: value = q / 65535 * (hi - lo) + lo |
| `q_lo`, `q_hi`   | float32 (3,)           | per-axis quantization range (only when quantized) |
| `transform`      | float32 (T,4,4)        | facial transformation matrix (canonical metric face -> camera, cm), row-major math convention (`M @ [x,y,z,1]`); the browser's `facialTransformationMatrixes[i].data` is the column-major flattening of the same matrix |
| `valid`          | bool (T,)              | a face was found in that frame |
| `fps`            | float                  | frames per second of the source |
| `width`,`height` | int                    | source frame size in pixels |
| `source`         | str                    | where the frames came from (path or description) |
| `meta`           | str (JSON)             | free-form provenance (extractor version, sha256 of the clip, ...) |

Quantization (uint16 over the track's own range per axis) keeps the error below 2e-5 of the range
(~0.01 px on a 512 px frame), so the motion library stays small without float16's 0.25 px steps.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

FORMAT = "avatar_ml.landmark_track"
VERSION = 1
N_LANDMARKS = 478


class TrackFormatError(ValueError):
    pass


@dataclass
class LandmarkTrack:
    landmarks: np.ndarray  # (T,478,3) float32
    transform: np.ndarray  # (T,4,4) float32
    valid: np.ndarray  # (T,) bool
    fps: float
    width: int
    height: int
    source: str = ""
    meta: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.landmarks = np.asarray(self.landmarks, np.float32)
        self.transform = np.asarray(self.transform, np.float32)
        self.valid = np.asarray(self.valid, bool)
        t = len(self.valid)
        if self.landmarks.shape != (t, N_LANDMARKS, 3):
            raise TrackFormatError(f"landmarks must be ({t},{N_LANDMARKS},3), got {self.landmarks.shape}")
        if self.transform.shape != (t, 4, 4):
            raise TrackFormatError(f"transform must be ({t},4,4), got {self.transform.shape}")
        if not (self.fps > 0 and self.width > 0 and self.height > 0):
            raise TrackFormatError("fps, width and height must be positive")

    def __len__(self) -> int:
        return len(self.valid)

    def pixels(self) -> np.ndarray:
        """(T,478,2) landmark x,y in pixels of the source frame."""
        return self.landmarks[..., :2] * np.array([self.width, self.height], np.float32)

    def slice(self, start: int, stop: int | None = None) -> "LandmarkTrack":
        s = slice(start, stop)
        return LandmarkTrack(self.landmarks[s], self.transform[s], self.valid[s], self.fps, self.width,
                             self.height, self.source, dict(self.meta))

    def save_track(self, path: str | Path, quantize: bool = False) -> None:
        save_track(self, path, quantize=quantize)


def save_track(track: LandmarkTrack, path: str | Path, quantize: bool = False) -> None:
    data: dict[str, np.ndarray] = {
        "format": np.array(FORMAT),
        "version": np.array(VERSION),
        "transform": track.transform,
        "valid": track.valid,
        "fps": np.array(float(track.fps)),
        "width": np.array(int(track.width)),
        "height": np.array(int(track.height)),
        "source": np.array(track.source),
        "meta": np.array(json.dumps(track.meta, sort_keys=True)),
    }
    if quantize:
        lm = track.landmarks[track.valid] if track.valid.any() else np.zeros((1, N_LANDMARKS, 3), np.float32)
        lo = lm.reshape(-1, 3).min(0).astype(np.float32)
        hi = lm.reshape(-1, 3).max(0).astype(np.float32)
        hi = np.where(hi > lo, hi, lo + 1.0).astype(np.float32)
        filled = np.where(track.valid[:, None, None], track.landmarks, lo)
        q = np.round((filled - lo) / (hi - lo) * 65535.0)
        data.update(landmarks_q=np.clip(q, 0, 65535).astype(np.uint16), q_lo=lo, q_hi=hi)
    else:
        data["landmarks"] = track.landmarks
    with open(path, "wb") as f:  # explicit handle: np.savez_compressed would append .npz to a str path
        np.savez_compressed(f, **data)


def load_track(path: str | Path) -> LandmarkTrack:
    try:
        z = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as e:
        raise TrackFormatError(f"{path}: not a landmark track ({e})") from e
    with z:
        if "format" not in z or str(z["format"]) != FORMAT:
            raise TrackFormatError(f"{path}: not a {FORMAT} file")
        if int(z["version"]) != VERSION:
            raise TrackFormatError(f"{path}: unsupported version {int(z['version'])}")
        valid = z["valid"].astype(bool)
        if "landmarks" in z:
            lm = z["landmarks"].astype(np.float32)
        else:
            lo, hi = z["q_lo"], z["q_hi"]
            lm = (z["landmarks_q"].astype(np.float32) / 65535.0 * (hi - lo) + lo).astype(np.float32)
            lm[~valid] = np.nan
        return LandmarkTrack(
            landmarks=lm,
            transform=z["transform"],
            valid=valid,
            fps=float(z["fps"]),
            width=int(z["width"]),
            height=int(z["height"]),
            source=str(z["source"]),
            meta=json.loads(str(z["meta"])),
        )
