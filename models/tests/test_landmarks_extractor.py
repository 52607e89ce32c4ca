"""Extractor, canonical mesh and geometry on the real MediaPipe bundle and real media."""

from pathlib import Path

import numpy as np
import pytest

from avatar_ml.landmarks.canonical_mesh import DEFAULT_TASK_PATH, load_canonical_mesh
from avatar_ml.landmarks.extractor import FaceLandmarkExtractor, ssd_anchors
from avatar_ml.landmarks.video_io import read_frames, read_image

MEDIA = Path(__file__).resolve().parents[2] / ".." / "shared" / "media"


@pytest.fixture(scope="module")
def extractor():
    return FaceLandmarkExtractor(DEFAULT_TASK_PATH)


def test_canonical_mesh_has_468_vertices_and_898_triangles():
    mesh = load_canonical_mesh()
    assert mesh.vertices.shape == (468, 3) and mesh.vertices.dtype == np.float32
    assert mesh.uv.shape == (468, 2) and (mesh.uv >= 0).all() and (mesh.uv <= 1).all()
    assert mesh.triangles.shape == (898, 3) and mesh.triangles.dtype == np.int32
    assert set(np.unique(mesh.triangles)) == set(range(468))
    # metric face, symmetric about x = 0: eye corners 33 / 263 mirror each other, about 9 cm apart
    assert np.allclose(mesh.vertices[33] * [-1, 1, 1], mesh.vertices[263], atol=1e-4)
    assert 7 < np.linalg.norm(mesh.vertices[33] - mesh.vertices[263]) < 11
    assert mesh.procrustes_ids.size > 10 and (mesh.procrustes_weights > 0).all()


def test_detector_anchors_match_the_short_range_model():
    a = ssd_anchors()
    assert a.shape == (896, 2)
    assert np.allclose(a[0], [0.5 / 16, 0.5 / 16]) and np.allclose(a[-1], [7.5 / 8, 7.5 / 8])


def test_finds_478_landmarks_inside_the_portrait(extractor):
    img = read_image(MEDIA / "s0.jpg")
    res = extractor.detect(img)
    assert res is not None and res.presence > 0.9
    assert res.landmarks.shape == (478, 3) and res.landmarks.dtype == np.float32
    assert (res.landmarks[:, :2] > 0).all() and (res.landmarks[:, :2] < 1).all()
    px = res.landmarks[:, :2] * [img.shape[1], img.shape[0]]
    # anatomy: left-eye corner 33 is left of 263 on screen, nose tip 1 below the eyes, chin 152 lowest
    assert px[33, 0] < px[263, 0] and px[1, 1] > px[33, 1] and px[152, 1] > px[1, 1]
    # iris centres (468, 473) sit between their eye corners
    assert px[33, 0] < px[468, 0] < px[133, 0] and px[362, 0] < px[473, 0] < px[263, 0]
    # transform: rotation part is scaled-orthonormal, face in front of the camera (negative z)
    r = res.transform[:3, :3]
    s = np.cbrt(np.linalg.det(r))
    assert np.allclose(r @ r.T / s**2, np.eye(3), atol=1e-3) and res.transform[2, 3] < -10


def test_returns_none_without_a_face(extractor):
    rng = np.random.default_rng(0)
    assert extractor.detect(np.full((256, 320, 3), 90, np.uint8)) is None
    assert extractor.detect(rng.integers(0, 255, (200, 200, 3), dtype=np.uint8)) is None


def test_tracks_a_clip_stably(extractor):
    frames = read_frames(MEDIA / "d18.mp4", 12)  # a clip that barely moves
    track = extractor.track(frames, fps=30.0, source="d18.mp4")
    assert track.valid.all() and track.landmarks.shape == (12, 478, 3)
    px = track.pixels()
    step = np.linalg.norm(np.diff(px, axis=0), axis=-1)
    assert np.median(step) < 1.5  # sub-pixel-ish jitter on a still head
    # tracking ROI agrees with a fresh detection on the last frame
    fresh = extractor.detect(frames[-1])
    assert np.abs(fresh.landmarks[:, :2] - track.landmarks[-1, :, :2]).mean() * track.width < 2.0


@pytest.mark.parametrize("shape", [(0, 0, 3), (0, 64, 3), (48, 0, 3)])
def test_an_image_with_no_pixels_is_refused_with_a_clear_error(extractor, shape):
    from avatar_ml.landmarks.extractor import ImageSizeError

    empty = np.zeros(shape, np.uint8)
    for call in (extractor.detect, extractor.detect_faces, lambda im: extractor.track([im], fps=25)):
        with pytest.raises(ImageSizeError, match=f"{shape[1]}x{shape[0]} pixels"):
            call(empty)


@pytest.mark.parametrize("shape", [(1, 1, 3), (1, 500, 3), (500, 1, 3)])
def test_tiny_and_thin_images_give_no_face_rather_than_an_error(extractor, shape):
    assert extractor.detect(np.full(shape, 128, np.uint8)) is None
