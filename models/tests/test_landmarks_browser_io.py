"""Browser dump reader, the VIDEO-mode smoother and the browser comparison metrics."""

import json
import struct

import numpy as np
import pytest

from avatar_ml.landmarks.browser_landmarks import BrowserLandmarksError, read_browser_landmarks
from avatar_ml.landmarks.compare_browser import compare
from avatar_ml.landmarks.smoothing import OneEuroLandmarkSmoother


def _header(frames):
    return {"format": "browser-landmarks/v1", "clip": "c.mp4", "clipSha256": "a" * 64, "width": 100, "height": 50,
            "fps": 25, "frameCount": len(frames), "trackedCount": 1, "meanDetectMs": 1.0,
            "tracker": {"package": "x", "modelSha256": "b" * 64, "delegate": "CPU"}, "blendshapeNames": [],
            "createdAt": "now", "frames": frames}


def test_reads_the_binary_layout_and_transposes_the_column_major_matrix(tmp_path):
    lm = np.random.default_rng(1).random(478 * 3).astype(np.float32)
    m = np.arange(16, dtype=np.float32)  # column-major
    header = json.dumps(_header([{"index": 0, "timestampMs": 0, "present": True},
                                 {"index": 1, "timestampMs": 40, "present": False}])).encode()
    body = np.concatenate([lm, m, np.zeros(52, np.float32)]).tobytes()
    (tmp_path / "a.bin").write_bytes(b"BLM1" + struct.pack("<I", len(header)) + header + body)
    b = read_browser_landmarks(tmp_path / "a.bin")
    assert b.present.tolist() == [True, False] and (b.width, b.height, b.fps) == (100, 50, 25.0)
    assert np.allclose(b.landmarks[0].ravel(), lm) and np.isnan(b.landmarks[1]).all()
    assert b.transform[0, 0, 1] == 4.0 and b.transform[0, 1, 0] == 1.0  # row-major maths convention


def test_rejects_malformed_dumps(tmp_path):
    (tmp_path / "bad.json").write_text(json.dumps(_header([{"index": 0, "timestampMs": 0, "present": True,
                                                            "landmarks": [0.5] * 10, "matrix": [0] * 16}])))
    (tmp_path / "other.json").write_text(json.dumps({"format": "something-else"}))
    (tmp_path / "short.bin").write_bytes(b"BLM1" + struct.pack("<I", 9999) + b"{}")
    for name in ("bad.json", "other.json", "short.bin"):
        with pytest.raises(BrowserLandmarksError):
            read_browser_landmarks(tmp_path / name)


def test_smoother_passes_the_first_frame_and_damps_jitter_on_a_still_face():
    rng = np.random.default_rng(0)
    base = np.stack([np.linspace(0.3, 0.7, 478), np.linspace(0.2, 0.8, 478), np.zeros(478)], 1)
    s = OneEuroLandmarkSmoother(640, 480)
    frames = [base + rng.normal(0, 0.5 / 640, base.shape) for _ in range(30)]
    out = [s.apply(f, 1 + i * 33333) for i, f in enumerate(frames)]
    assert np.allclose(out[0], frames[0], atol=1e-6)
    raw_jitter = np.abs(np.diff(np.array(frames), axis=0)).mean()
    smooth_jitter = np.abs(np.diff(np.array(out[5:]), axis=0)).mean()
    assert smooth_jitter < 0.3 * raw_jitter
    # a fast move is followed, not lagged behind
    moved = base + 0.05
    for i in range(30, 34):
        last = s.apply(moved, 1 + i * 33333)
    assert np.abs(last - moved).max() * 640 < 1.0


def test_compare_reports_pixel_errors_on_common_frames():
    class Ref:
        width, height = 200, 100
        present = np.array([True, True, False])
        landmarks = np.zeros((3, 478, 3), np.float32)
        transform = np.tile(np.eye(4, dtype=np.float32), (3, 1, 1))

    ours = np.zeros((3, 478, 3), np.float32)
    ours[..., 0] = 1.0 / 200  # 1 px to the right
    r = compare(ours, Ref.transform.copy(), np.array([True, True, True]), np.array([128.0, 128.0, 128.0]), Ref)
    assert r["frames_both"] == 2 and r["frames_only_ours"] == 1
    assert r["full_frame_px"]["mean"] == pytest.approx(1.0) and r["crop256_px"]["mean"] == pytest.approx(2.0)


def test_compare_browser_fails_when_no_frame_has_a_face_on_both_sides(tmp_path, capsys):
    """A comparison over zero frames measured nothing: the tool must exit non-zero, not report a pass."""
    from avatar_ml.landmarks.compare_browser import main
    from avatar_ml.landmarks.video_io import write_video

    write_video(tmp_path / "blank.mp4", [np.full((48, 64, 3), 90, np.uint8)] * 2, fps=25)
    header = _header([{"index": i, "timestampMs": 40 * i, "present": False} for i in range(2)])
    header.update(width=64, height=48, trackedCount=0)
    (tmp_path / "dump.json").write_text(json.dumps(header))
    rc = main(["--clip", str(tmp_path / "blank.mp4"), "--browser", str(tmp_path / "dump.json"),
               "--configs", "square_raw"])
    assert rc == 1
    assert "no frame where both found a face" in capsys.readouterr().err
