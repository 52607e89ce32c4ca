"""Identity metric: face-api's recogniser ported to PyTorch, on real clips, checked against the real
face-api running in Node."""

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest

from avatar_ml.identity import (EMBEDDING_SIZE, SAME_PERSON_THRESHOLD, IdentityEmbedder,
                                identity_distance)
from avatar_ml.identity.alignment import (faceapi_box, pad_to_square, ref_points_from_ibug68,
                                          resize_bilinear_legacy)
from avatar_ml.identity.faceapi_reference import SCRIPT, TSX, run_faceapi
from avatar_ml.identity.samples import sample_frames
from avatar_ml.identity.weights import WeightsError, load_recognition_weights, load_tfjs_weights
from avatar_ml.landmarks.extractor import FaceLandmarkExtractor

MEDIA = Path(__file__).resolve().parents[2] / ".." / "shared" / "media"


@pytest.fixture(scope="module")
def embedder():
    return IdentityEmbedder()


@pytest.fixture(scope="module")
def extractor():
    return FaceLandmarkExtractor()


@pytest.fixture(scope="module")
def d10_frames():
    return [f for _, f in sample_frames(MEDIA / "d10.mp4", 3)]


@pytest.fixture(scope="module")
def katie_frame():
    return sample_frames(MEDIA / "WDA_KatieHill_000.mp4", 1)[0][1]


def _landmarks(extractor, frame):
    face = extractor.detect(frame)
    assert face is not None, "MediaPipe found no face"
    return face.landmarks


def test_reads_every_recogniser_weight_from_the_npm_package():
    w = load_recognition_weights()
    assert w["conv32_down/conv/filters"].shape == (7, 7, 3, 32)
    assert w["conv256_down_out/conv2/conv/filters"].shape == (3, 3, 256, 256)
    assert w["fc"].shape == (256, 128)
    assert all(v.dtype == np.float32 and np.isfinite(v).all() for v in w.values())
    # dequantised uint8 weights stay within the manifest's [min, min + 255 * scale]
    assert -0.072 < w["conv32_down/conv/filters"].min() < w["conv32_down/conv/filters"].max() < 0.07


def test_rejects_a_missing_manifest(tmp_path):
    with pytest.raises(WeightsError, match="npm ci"):
        load_tfjs_weights(tmp_path / "nope.json")


def test_pads_to_a_centred_square_like_face_api():
    img = np.ones((4, 7, 3), np.uint8)
    sq = pad_to_square(img)
    assert sq.shape == (7, 7, 3)
    # diff 3: face-api puts round(1.5) = 2 rows after and 1 before
    assert sq[0].sum() == 0 and sq[1:5].min() == 1 and sq[5:].sum() == 0


def test_legacy_bilinear_resize_samples_top_left_aligned_pixels():
    img = np.arange(4 * 4 * 3, dtype=np.float32).reshape(4, 4, 3)
    out = resize_bilinear_legacy(img, 2)
    # alignCorners=false, halfPixelCenters=false: output pixel i reads input pixel 2i
    assert np.array_equal(out, img[::2, ::2])
    up = resize_bilinear_legacy(np.full((3, 5, 3), 9, np.uint8), 150)
    assert up.shape == (150, 150, 3) and np.allclose(up, 9)


def test_box_follows_face_apis_eye_mouth_geometry():
    pts = np.zeros((68, 2))
    pts[36:42] = [100, 100]
    pts[42:48] = [160, 100]
    pts[48:68] = [130, 160]
    ref = ref_points_from_ibug68(pts)
    d = np.hypot(30, 60)
    size = int(np.floor(d / 0.45))
    cx, cy = 130, (100 + 100 + 160) / 3
    assert faceapi_box(ref, 640, 480) == (int(cx - 0.5 * size), int(np.floor(cy - 0.43 * size)),
                                          size, size)
    # clipped at the right/bottom image border
    x, y, w, h = faceapi_box(ref, 200, 180)
    assert x + w == 200 and y + h == 180


def test_embeddings_are_128_d_and_deterministic(embedder, extractor, d10_frames):
    marks = [_landmarks(extractor, f) for f in d10_frames[:2]]
    a = embedder.embed(d10_frames[:2], landmarks=marks)
    b = embedder.embed(d10_frames[:2], landmarks=marks)
    assert a.shape == (2, EMBEDDING_SIZE) and a.dtype == np.float32
    assert np.array_equal(a, b)
    # batching does not change a face's descriptor
    single = embedder.embed(d10_frames[:1], landmarks=marks[:1])
    assert np.allclose(single[0], a[0], atol=1e-5)


def test_onnx_and_torch_runtimes_compute_the_same_descriptors(embedder, extractor, d10_frames):
    marks = [_landmarks(extractor, d10_frames[0])]
    torch_port = IdentityEmbedder(runtime="torch")
    a = embedder.embed(d10_frames[:1], landmarks=marks)
    b = torch_port.embed(d10_frames[:1], landmarks=marks)
    assert np.abs(a - b).max() < 1e-5


def test_two_frames_of_one_clip_are_the_same_person(embedder, extractor, d10_frames):
    first, last = d10_frames[0], d10_frames[-1]
    e = embedder.embed([first, last], landmarks=[_landmarks(extractor, first),
                                                 _landmarks(extractor, last)])
    assert identity_distance(e[0], e[1]) < SAME_PERSON_THRESHOLD


def test_different_people_are_farther_apart_than_one_person(embedder, extractor, d10_frames,
                                                            katie_frame):
    frames = [d10_frames[0], d10_frames[-1], katie_frame]
    e = embedder.embed(frames, landmarks=[_landmarks(extractor, f) for f in frames])
    same = identity_distance(e[0], e[1])
    different = min(identity_distance(e[0], e[2]), identity_distance(e[1], e[2]))
    assert different > SAME_PERSON_THRESHOLD > same
    assert different > same + 0.2


def test_frames_without_a_face_get_nan_descriptors(embedder, extractor, d10_frames):
    blank = np.full((256, 256, 3), 128, np.uint8)
    e = embedder.embed_frames([d10_frames[0], blank], detector=extractor)
    assert np.isfinite(e[0]).all() and np.isnan(e[1]).all()


def test_distance_rejects_vectors_that_are_not_descriptors():
    with pytest.raises(ValueError):
        identity_distance(np.zeros(127), np.zeros(128))


@pytest.mark.skipif(not TSX.exists(), reason="node_modules not installed")
def test_matches_face_api_running_in_node(embedder, d10_frames):
    """face-api's whole pipeline (SSD detector, 68 landmarks, alignment, recogniser; tfjs wasm)
    against the port fed the same 68 landmarks: same crop box, same descriptor to 1e-4."""
    frame = d10_frames[0]
    face = run_faceapi([frame], "detect", backend="wasm")[0]
    assert face is not None
    box = faceapi_box(ref_points_from_ibug68(face.landmarks68), frame.shape[1], frame.shape[0])
    assert box == face.aligned_box
    x, y, w, h = box
    ours = embedder.embed([frame[y:y + h, x:x + w]])[0]
    assert np.abs(ours - face.descriptor).max() < 1e-4


@pytest.mark.skipif(not TSX.exists(), reason="node_modules not installed")
def test_face_api_reference_rejects_a_malformed_job():
    job = {"modelDir": "x", "images": [{"id": "0", "width": 2, "height": 2, "task": "paint",
                                        "rgbBase64": "AAAA"}]}
    proc = subprocess.run([str(TSX), str(SCRIPT)], input=json.dumps(job).encode(),
                          capture_output=True, timeout=120, check=False)
    assert proc.returncode != 0
    assert b"invalid job" in proc.stderr and proc.stdout == b""
