"""Reads the browser FaceLandmarker dumps of test/tools/extract-browser-landmarks.ts ("browser-landmarks/v1").

Format (test/tools/landmarks/browserLandmarksFormat.ts): JSON, or binary "BLM1" + uint32 LE header
length + JSON header (frames without arrays) + float32 LE per present frame: 478*3 landmarks,
16 matrix values (column-major), 52 blendshapes. Everything read is validated; a malformed file
raises BrowserLandmarksError with the reason.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

FORMAT = "browser-landmarks/v1"
N_LM = 478 * 3
FLOATS_PER_FRAME = N_LM + 16 + 52


class BrowserLandmarksError(ValueError):
    pass


@dataclass
class BrowserLandmarks:
    clip: str
    clip_sha256: str
    width: int
    height: int
    fps: float
    landmarks: np.ndarray  # (T,478,3) float32, NaN where not present
    transform: np.ndarray  # (T,4,4) float32 (row-major maths convention), NaN where not present
    present: np.ndarray  # (T,) bool
    tracker: dict


def _require(cond: bool, msg: str) -> None:
    if not cond:
        raise BrowserLandmarksError(msg)


def _header_fields(h: dict) -> tuple[int, int, float, list]:
    _require(isinstance(h, dict) and h.get("format") == FORMAT, f"not a {FORMAT} file")
    w, ht, fps, frames = h.get("width"), h.get("height"), h.get("fps"), h.get("frames")
    _require(isinstance(w, int) and w > 0 and isinstance(ht, int) and ht > 0, "bad width/height")
    _require(isinstance(fps, (int, float)) and fps > 0, "bad fps")
    _require(isinstance(frames, list), "frames must be a list")
    sha = h.get("clipSha256")
    _require(isinstance(sha, str) and len(sha) == 64, "bad clipSha256")
    return w, ht, float(fps), frames


def read_browser_landmarks(path: str | Path) -> BrowserLandmarks:
    raw = Path(path).read_bytes()
    if raw[:4] == b"BLM1":
        _require(len(raw) >= 8, "truncated BLM1 prefix")
        (n,) = struct.unpack("<I", raw[4:8])
        _require(8 + n <= len(raw), "truncated BLM1 header")
        header = json.loads(raw[8 : 8 + n].decode("utf-8"))
        w, h, fps, frames = _header_fields(header)
        present = np.array([bool(f.get("present")) for f in frames], bool)
        body = raw[8 + n :]
        _require(len(body) == present.sum() * FLOATS_PER_FRAME * 4, "BLM1 body size does not match present frames")
        data = np.frombuffer(body, "<f4").reshape(-1, FLOATS_PER_FRAME)
        lm_p, mat_p = data[:, :N_LM], data[:, N_LM : N_LM + 16]
    else:
        try:
            header = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise BrowserLandmarksError(f"{path}: neither BLM1 nor JSON ({e})") from e
        w, h, fps, frames = _header_fields(header)
        present = np.array([bool(f.get("present")) for f in frames], bool)
        lm_rows, mat_rows = [], []
        for f in frames:
            if not f.get("present"):
                continue
            lm, mat = f.get("landmarks"), f.get("matrix")
            _require(isinstance(lm, list) and len(lm) == N_LM, f"frame {f.get('index')}: landmarks must have {N_LM} numbers")
            _require(isinstance(mat, list) and len(mat) == 16, f"frame {f.get('index')}: matrix must have 16 numbers")
            lm_rows.append(lm)
            mat_rows.append(mat)
        lm_p = np.asarray(lm_rows, np.float32).reshape(-1, N_LM)
        mat_p = np.asarray(mat_rows, np.float32).reshape(-1, 16)
    _require(bool(np.isfinite(lm_p).all() and np.isfinite(mat_p).all()), "non-finite values")
    t = len(present)
    landmarks = np.full((t, 478, 3), np.nan, np.float32)
    transform = np.full((t, 4, 4), np.nan, np.float32)
    landmarks[present] = lm_p.reshape(-1, 478, 3)
    transform[present] = mat_p.reshape(-1, 4, 4).transpose(0, 2, 1)  # column-major -> row-major
    return BrowserLandmarks(str(header.get("clip", "")), header["clipSha256"], w, h, fps, landmarks, transform,
                            present, dict(header.get("tracker") or {}))
