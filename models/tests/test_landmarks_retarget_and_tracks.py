"""Retargeting properties, the track file format and the committed motion library."""

import json
from pathlib import Path

import numpy as np
import pytest

from avatar_ml.landmarks.canonical_mesh import load_canonical_mesh
from avatar_ml.landmarks.geometry import GeometryPipeline
from avatar_ml.landmarks.retarget import face_proportions, retarget
from avatar_ml.landmarks.track_io import LandmarkTrack, TrackFormatError, load_track, save_track

LIBRARY = Path(__file__).resolve().parents[1] / "motion_library"


@pytest.fixture(scope="module")
def geo():
    return GeometryPipeline(load_canonical_mesh())


@pytest.fixture(scope="module")
def driver():
    return load_track(LIBRARY / "d10.npz").slice(0, 150)  # talking, mouth opens and closes


@pytest.fixture(scope="module")
def target():
    t = load_track(LIBRARY / "d18.npz")  # a different person, 480x480
    return t.landmarks[0], (t.width, t.height)


def _shape_stats(geo, landmarks, width, height):
    m = geo.to_metric(landmarks, width, height).metric
    fp = face_proportions(m)
    iod = np.linalg.norm(m[:, 33] - m[:, 263], axis=-1) / fp[:, 0]
    width_to_height = fp[:, 0] / fp[:, 1]
    mouth_open = np.linalg.norm(m[:, 13] - m[:, 14], axis=-1) / fp[:, 1]
    return iod, width_to_height, mouth_open


def test_a_driver_retargeted_onto_itself_reproduces_itself(driver):
    n = 0
    out = retarget(driver, n, driver.landmarks[n])
    assert out.landmarks.shape == driver.landmarks.shape and (out.valid == driver.valid).all()
    ok = driver.valid
    assert np.abs(out.landmarks[ok] - driver.landmarks[ok]).max() * driver.width < 1e-2
    assert np.abs(out.transform[ok] - driver.transform[ok]).max() < 1e-3


def test_the_target_keeps_its_face_shape_while_the_mouth_follows_the_driver(geo, driver, target):
    tgt_lm, (w, h) = target
    out = retarget(driver, 0, tgt_lm, (w, h))
    ok = out.valid
    d_iod, d_wh, d_mouth = _shape_stats(geo, driver.landmarks[ok], driver.width, driver.height)
    t_iod, t_wh, _ = _shape_stats(geo, tgt_lm[None], w, h)
    o_iod, o_wh, o_mouth = _shape_stats(geo, out.landmarks[ok], w, h)
    # the two identities really differ; at every frame the output differs from the driver by the
    # target's identity offset (expression changes these ratios too: a jaw drop makes the face
    # taller, so they are compared frame by frame, not against one constant)
    for d, t, o in ((d_iod, t_iod[0], o_iod), (d_wh, t_wh[0], o_wh)):
        offset = t - d[0]
        assert abs(offset) > 0.02
        assert np.abs((o - d) - offset).max() < 0.3 * abs(offset)
    # mouth opening follows the driver over time
    assert d_mouth.max() - d_mouth.min() > 0.05
    assert np.corrcoef(d_mouth, o_mouth)[0, 1] > 0.95
    # and the output stays a face in the target's frame
    px = out.pixels()[ok]
    assert (px > 0).all() and (px[..., 0] < w).all() and (px[..., 1] < h).all()


def test_head_rotation_transfers_relative_to_the_neutral(driver, target):
    tgt_lm, size = target
    out = retarget(driver, 0, tgt_lm, size)
    ok = np.nonzero(driver.valid)[0]

    def rot(m):
        return m[:3, :3] / np.linalg.norm(m[:3, 0])

    for t in ok[::25]:
        rel_driver = rot(driver.transform[t]) @ rot(driver.transform[0]).T
        rel_out = rot(out.transform[t]) @ rot(out.transform[0]).T
        assert np.allclose(rel_driver, rel_out, atol=1e-4)


def test_retarget_rejects_an_invalid_neutral_frame(driver, target):
    bad = LandmarkTrack(driver.landmarks.copy(), driver.transform.copy(), driver.valid.copy(), driver.fps,
                        driver.width, driver.height)
    bad.valid[3] = False
    with pytest.raises(ValueError):
        retarget(bad, 3, target[0])
    with pytest.raises(ValueError):
        retarget(driver, len(driver), target[0])


def test_track_save_load_round_trip(tmp_path, driver):
    t = driver.slice(0, 20)
    t.valid[5] = False
    t.landmarks[5] = np.nan
    t.meta["note"] = "round trip"
    save_track(t, tmp_path / "a.npz")
    a = load_track(tmp_path / "a.npz")
    assert np.array_equal(a.valid, t.valid) and a.fps == t.fps and (a.width, a.height) == (t.width, t.height)
    assert np.array_equal(a.landmarks, t.landmarks, equal_nan=True) and a.meta["note"] == "round trip"
    save_track(t, tmp_path / "q.npz", quantize=True)
    q = load_track(tmp_path / "q.npz")
    ok = t.valid
    assert np.abs(q.landmarks[ok] - t.landmarks[ok]).max() * t.width < 0.02  # quantization < 0.02 px
    assert np.isnan(q.landmarks[5]).all()


def test_loading_a_file_that_is_not_a_track_fails_clearly(tmp_path):
    np.savez(tmp_path / "x.npz", foo=np.zeros(3))
    (tmp_path / "y.npz").write_bytes(b"not a zip")
    for name in ("x.npz", "y.npz"):
        with pytest.raises(TrackFormatError):
            load_track(tmp_path / name)


def test_the_motion_library_indexes_every_track():
    index = json.loads((LIBRARY / "index.json").read_text())
    assert {"WDA_KatieHill_000.mp4", "d10.mp4", "d12.mp4", "d14.mp4", "d18.mp4", "d19.mp4"} <= {
        e["clip"] for e in index["clips"]}
    total = 0
    for e in index["clips"]:
        t = load_track(LIBRARY / e["file"])
        assert len(t) == e["frames"] and int(t.valid.sum()) == e["valid_frames"] and len(e["sha256"]) == 64
        assert e["valid_frames"] >= 0.9 * e["frames"]
        total += (LIBRARY / e["file"]).stat().st_size
    assert total < 8e6


def test_the_motion_library_is_current_with_the_media():
    from avatar_ml.landmarks.build_motion_library import DEFAULT_MEDIA, check

    assert check(DEFAULT_MEDIA, LIBRARY) == []


def test_video_write_read_round_trip(tmp_path):
    from avatar_ml.landmarks.video_io import VideoError, probe, read_frames, write_video

    yy, xx = np.mgrid[0:64, 0:96]
    frames = [np.stack([(xx * 2 + i * 8) % 256, yy * 4 % 256, np.full_like(xx, 128)], -1).astype(np.uint8)
              for i in range(6)]
    write_video(tmp_path / "v.mp4", frames, fps=25)
    info = probe(tmp_path / "v.mp4")
    assert (info.width, info.height, info.fps) == (96, 64, 25.0)
    back = read_frames(tmp_path / "v.mp4")
    assert back.shape == (6, 64, 96, 3)
    assert np.abs(back.astype(int) - np.stack(frames).astype(int)).mean() < 6  # h264 yuv420p, lossy
    with pytest.raises(VideoError):
        read_frames(tmp_path / "missing.mp4")
