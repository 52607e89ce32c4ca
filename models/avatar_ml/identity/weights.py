"""Reads face-api's tfjs weight manifests (manifest JSON + binary shards) into numpy arrays.

The recogniser's weights come from the `@vladmandic/face-api` npm package (MIT); npm is the only
registry this project can reach, so we read its tfjs format directly instead of converting once.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

# The repository root is three levels above this package (models/avatar_ml/identity/).
REPO_ROOT = Path(__file__).resolve().parents[3]
FACE_API_MODEL_DIR = REPO_ROOT / "node_modules" / "@vladmandic" / "face-api" / "model"
RECOGNITION_MANIFEST = "face_recognition_model-weights_manifest.json"

_DTYPES = {"float32": np.float32, "int32": np.int32, "uint8": np.uint8, "uint16": np.uint16}


class WeightsError(RuntimeError):
    """The manifest or its shards are missing or malformed."""


def load_tfjs_weights(manifest_path: Path) -> dict[str, np.ndarray]:
    """Returns {weight name: float32/int32 array} for every weight of a tfjs weights manifest.

    Quantized weights (uint8/uint16 with scale+min) are dequantized as tfjs does:
    value = q * scale + min.
    """
    manifest_path = Path(manifest_path)
    if not manifest_path.is_file():
        raise WeightsError(
            f"{manifest_path} not found: run `npm ci` (the weights ship in @vladmandic/face-api)"
        )
    groups = json.loads(manifest_path.read_text())
    if not isinstance(groups, list):
        raise WeightsError(f"{manifest_path}: expected a list of weight groups")
    out: dict[str, np.ndarray] = {}
    for group in groups:
        blob = b"".join((manifest_path.parent / p).read_bytes() for p in group["paths"])
        offset = 0
        for spec in group["weights"]:
            name, shape, dtype = spec["name"], tuple(spec["shape"]), spec["dtype"]
            count = int(np.prod(shape)) if shape else 1
            quant = spec.get("quantization")
            if quant is not None:
                qtype = _DTYPES[quant["dtype"]]
                nbytes = count * np.dtype(qtype).itemsize
                raw = np.frombuffer(blob, dtype=qtype, count=count, offset=offset)
                if "scale" not in quant or "min" not in quant:
                    raise WeightsError(f"{name}: unsupported quantization {quant}")
                # float64 for the affine map, then float32 like tfjs' Float32Array.
                values = (raw.astype(np.float64) * quant["scale"] + quant["min"]).astype(np.float32)
            else:
                ntype = _DTYPES[dtype]
                nbytes = count * np.dtype(ntype).itemsize
                values = np.frombuffer(blob, dtype=ntype, count=count, offset=offset).copy()
            if offset + nbytes > len(blob):
                raise WeightsError(f"{name}: shards end before the weight does")
            offset += nbytes
            out[name] = values.reshape(shape)
        if offset != len(blob):
            raise WeightsError(f"{manifest_path}: {len(blob) - offset} unread bytes in the shards")
    return out


def load_recognition_weights(model_dir: Path = FACE_API_MODEL_DIR) -> dict[str, np.ndarray]:
    """The 128-d FaceRecognitionNet's weights (a dlib ResNet-34-like network)."""
    return load_tfjs_weights(Path(model_dir) / RECOGNITION_MANIFEST)
