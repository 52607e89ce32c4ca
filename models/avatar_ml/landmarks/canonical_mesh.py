"""MediaPipe's canonical face mesh and Procrustes basis, read from the FaceLandmarker .task bundle.

The bundle's `geometry_pipeline_metadata_landmarks.binarypb` is a serialized
`GeometryPipelineMetadata` protobuf (mediapipe/tasks/cc/vision/face_geometry/proto):

    message GeometryPipelineMetadata {
      optional Mesh3d canonical_mesh = 1;
      repeated WeightedLandmarkRef procrustes_landmark_basis = 2;  // {landmark_id=1 uint32, weight=2 float}
      optional InputSource input_source = 3;
    }
    message Mesh3d {
      optional VertexType vertex_type = 1;        // VERTEX_PT: x, y, z, u, v per vertex
      optional PrimitiveType primitive_type = 2;  // TRIANGLE
      repeated float vertex_buffer = 3;
      repeated uint32 index_buffer = 4;
    }

The wire format is decoded by hand (a few dozen lines) so no generated protobuf code is needed.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

DEFAULT_TASK_PATH = Path(__file__).resolve().parents[3] / ".." / "shared" / "models" / "face_landmarker.task"
METADATA_NAME = "geometry_pipeline_metadata_landmarks.binarypb"

_VARINT, _I64, _LEN, _I32 = 0, 1, 2, 5


@dataclass(frozen=True)
class CanonicalMesh:
    """Canonical (metric, centimetre-scale) face mesh of MediaPipe's face geometry module."""

    vertices: np.ndarray  # (468, 3) float32, metric space (x right, y up, z towards the camera)
    uv: np.ndarray  # (468, 2) float32 texture coordinates
    triangles: np.ndarray  # (T, 3) int32 vertex indices
    procrustes_ids: np.ndarray  # (K,) int32 landmark ids used by the pose Procrustes fit
    procrustes_weights: np.ndarray  # (K,) float32 their weights

    @property
    def landmark_weights(self) -> np.ndarray:
        """(468,) float32 per-vertex Procrustes weights (0 for vertices outside the basis)."""
        w = np.zeros(len(self.vertices), np.float32)
        w[self.procrustes_ids] = self.procrustes_weights
        return w


class ProtoDecodeError(ValueError):
    pass


def _read_varint(buf: bytes, pos: int) -> tuple[int, int]:
    result = 0
    shift = 0
    while True:
        if pos >= len(buf):
            raise ProtoDecodeError("truncated varint")
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise ProtoDecodeError("varint too long")


def _fields(buf: bytes):
    """Yields (field_number, wire_type, value) where value is int for varint/fixed, bytes for LEN."""
    pos = 0
    while pos < len(buf):
        key, pos = _read_varint(buf, pos)
        field, wire = key >> 3, key & 7
        if wire == _VARINT:
            value, pos = _read_varint(buf, pos)
        elif wire == _I64:
            value, pos = buf[pos : pos + 8], pos + 8
        elif wire == _LEN:
            n, pos = _read_varint(buf, pos)
            value, pos = buf[pos : pos + n], pos + n
        elif wire == _I32:
            value, pos = buf[pos : pos + 4], pos + 4
        else:
            raise ProtoDecodeError(f"unsupported wire type {wire}")
        if pos > len(buf):
            raise ProtoDecodeError("truncated field")
        yield field, wire, value


def _packed_varints(data: bytes) -> list[int]:
    out, pos = [], 0
    while pos < len(data):
        v, pos = _read_varint(data, pos)
        out.append(v)
    return out


def parse_geometry_metadata(buf: bytes) -> CanonicalMesh:
    ids: list[int] = []
    weights: list[float] = []
    floats: list[np.ndarray] = []
    indices: list[int] = []
    for field, wire, value in _fields(buf):
        if field == 2 and wire == _LEN:  # WeightedLandmarkRef
            lid, w = 0, 0.0
            for f2, w2, v2 in _fields(value):
                if f2 == 1 and w2 == _VARINT:
                    lid = v2
                elif f2 == 2 and w2 == _I32:
                    w = float(np.frombuffer(v2, "<f4")[0])
            ids.append(lid)
            weights.append(w)
        elif field == 1 and wire == _LEN:  # Mesh3d
            for f2, w2, v2 in _fields(value):
                if f2 == 3 and w2 == _LEN:  # packed floats
                    floats.append(np.frombuffer(v2, "<f4"))
                elif f2 == 3 and w2 == _I32:  # unpacked float
                    floats.append(np.frombuffer(v2, "<f4"))
                elif f2 == 4 and w2 == _LEN:
                    indices.extend(_packed_varints(v2))
                elif f2 == 4 and w2 == _VARINT:
                    indices.append(v2)
    if not floats or not indices:
        raise ProtoDecodeError("no canonical mesh in geometry metadata")
    vb = np.concatenate(floats).astype(np.float32)
    if vb.size % 5:
        raise ProtoDecodeError("vertex buffer is not VERTEX_PT (5 floats per vertex)")
    vb = vb.reshape(-1, 5)
    tri = np.asarray(indices, np.int32)
    if tri.size % 3 or tri.max() >= len(vb):
        raise ProtoDecodeError("bad index buffer")
    return CanonicalMesh(
        vertices=np.ascontiguousarray(vb[:, :3]),
        uv=np.ascontiguousarray(vb[:, 3:5]),
        triangles=tri.reshape(-1, 3),
        procrustes_ids=np.asarray(ids, np.int32),
        procrustes_weights=np.asarray(weights, np.float32),
    )


@lru_cache(maxsize=4)
def _load_cached(task_path: str) -> CanonicalMesh:
    with zipfile.ZipFile(task_path) as z:
        return parse_geometry_metadata(z.read(METADATA_NAME))


def load_canonical_mesh(task_path: str | Path = DEFAULT_TASK_PATH) -> CanonicalMesh:
    """Parses the canonical mesh (468 vertices, ~898 triangles) out of a face_landmarker.task bundle."""
    return _load_cached(str(Path(task_path).resolve()))
