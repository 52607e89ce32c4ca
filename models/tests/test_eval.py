"""Evaluation harness: metric functions on known inputs, crop policy, registry, and a short
end-to-end CLI run on real media writing metrics.json and the side-by-side mp4."""

import json
import math
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from avatar_ml.eval.crop import CROP_SIZE, apply_crop, crop_boxes
from avatar_ml.eval.degrade import DEGRADATIONS
from avatar_ml.eval.metrics import akd_px, mouth_corr, psnr, ssim
from avatar_ml.eval.registry import resolve_model
from avatar_ml.teacher.topology import MOUTH_LOWER_INNER, MOUTH_UPPER_INNER

REPO = Path(__file__).resolve().parents[2]
MEDIA = REPO / ".." / "shared" / "media"


def test_ssim_and_psnr_on_known_images():
    rng = np.random.default_rng(0)
    a = rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)
    assert ssim(a, a) == pytest.approx(1.0)
    assert psnr(a, a) == math.inf
    b = np.clip(a.astype(int) + 10, 0, 255).astype(np.uint8)
    flat = np.full((32, 32, 3), 100, np.uint8)
    assert psnr(flat, flat + 10) == pytest.approx(10 * math.log10(255**2 / 100))
    assert ssim(a, b) < 1.0
    assert ssim(a, rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)) < 0.1


def test_akd_is_the_mean_point_distance():
    p = np.zeros((478, 2))
    q = p + np.array([3.0, 4.0])
    assert akd_px(p, q) == pytest.approx(5.0)


def _mouth_track(openings: np.ndarray) -> np.ndarray:
    lm = np.zeros((len(openings), 478, 3))
    lm[:, 308, 0] = 1.0  # mouth width 1
    lm[:, MOUTH_UPPER_INNER, 1] = 0.5
    lm[:, MOUTH_LOWER_INNER, 1] = 0.5 + openings
    return lm


def test_mouth_corr_follows_the_opening_over_time():
    o = np.abs(np.sin(np.linspace(0, 6, 40))) * 0.3
    assert mouth_corr(_mouth_track(o), _mouth_track(o)) == pytest.approx(1.0)
    assert mouth_corr(_mouth_track(0.3 - o), _mouth_track(o)) == pytest.approx(-1.0)
    assert mouth_corr(_mouth_track(np.full(40, 0.1)), _mouth_track(o)) == 0.0  # static mouth: no information
    assert mouth_corr(_mouth_track(o), _mouth_track(np.full(40, 0.1))) is None  # reference never moves


def test_follow_crop_tracks_the_head_and_fixed_crop_does_not():
    lm = np.zeros((5, 478, 3), np.float32)
    lm[..., 0], lm[..., 1] = 0.4, 0.4
    lm[:, :240, :2] += 0.1  # give the face oval a 0.1-wide extent
    shift = np.arange(5)[:, None, None] * np.array([0.05, 0, 0])
    moving = lm + shift
    valid = np.ones(5, bool)
    follow = crop_boxes(moving, valid, moving[0], 200, 200, "follow")
    fixed = crop_boxes(moving, valid, moving[0], 200, 200, "fixed")
    assert np.all(np.diff(follow.x0) > 0) and np.allclose(fixed.x0, fixed.x0[0])
    frame = np.full((200, 200, 3), 255, np.uint8)
    crop = apply_crop(frame, crop_boxes(moving, valid, moving[0], 200, 200, "follow"), 4)
    assert crop.shape == (CROP_SIZE, CROP_SIZE, 3) and crop.dtype == np.uint8


def test_degradations_keep_shape_and_change_pixels():
    rng = np.random.default_rng(1)
    img = rng.integers(0, 256, (96, 96, 3), dtype=np.uint8)
    for name, fn in DEGRADATIONS.items():
        out = fn(img)
        assert out.shape == img.shape and out.dtype == np.uint8, name
        assert not np.array_equal(out, img), name


def test_registry_knows_the_teacher_and_baselines_and_loads_plugins():
    for name in ("teacher", "warp2d", "static"):
        assert resolve_model(name).name == name
    assert resolve_model("avatar_ml.eval.registry:_static").factory is not None
    with pytest.raises(ValueError):
        resolve_model("nope")


def test_cli_self_reenactment_writes_metrics_and_video(tmp_path):
    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "avatar_ml.eval", "--model", "teacher", "--clip", str(MEDIA / "d19.mp4"),
           "--frames", "6", "--degraded-stride", "3", "--identity-stride", "3", "--out", str(out)]
    proc = subprocess.run(cmd, cwd=REPO, env={"PYTHONPATH": str(REPO / "models"), "PATH": "/usr/bin:/bin"},
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    m = json.loads((out / "metrics.json").read_text())
    assert m["mode"] == "self" and m["frames"] == 6
    for name in ("teacher", "warp2d", "static"):
        row = m["methods"][name]
        for key in ("ssim", "psnr", "akd_px", "mouth_corr", "identity_distance", "s_per_frame"):
            assert key in row, (name, key)
        assert 0 < row["ssim"] <= 1 and row["akd_px"] >= 0
    assert m["methods"]["teacher"]["ssim"] > m["methods"]["static"]["ssim"] - 0.05
    assert set(m["degraded_source"]) >= {"blur_s2", "jpeg_q20", "downup_x4"}
    probe = subprocess.run(["ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0", "-show_entries",
                            "stream=nb_read_frames,width", "-of", "csv=p=0", str(out / "side_by_side.mp4")],
                           capture_output=True, text=True, check=True)
    width, frames = (int(x) for x in probe.stdout.strip().split(","))
    assert frames == 6 and width == 4 * CROP_SIZE  # real | teacher | warp2d | static


def test_cli_rejects_a_missing_clip(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "avatar_ml.eval", "--model", "teacher", "--clip", "nope.mp4",
                           "--out", str(tmp_path)], cwd=REPO, env={"PYTHONPATH": str(REPO / "models")},
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "no such file" in proc.stderr


def test_cli_cross_reenactment_measures_identity_and_akd_against_the_retargeted_motion(tmp_path):
    out = tmp_path / "cross"
    cmd = [sys.executable, "-m", "avatar_ml.eval", "--model", "teacher", "--clip", str(MEDIA / "d18.mp4"),
           "--driver", str(MEDIA / "d10.mp4"), "--frames", "5", "--identity-stride", "2", "--no-degraded",
           "--no-video", "--out", str(out)]
    proc = subprocess.run(cmd, cwd=REPO, env={"PYTHONPATH": str(REPO / "models"), "PATH": "/usr/bin:/bin"},
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    m = json.loads((out / "metrics.json").read_text())
    assert m["mode"] == "cross" and m["driver"].endswith("d10.mp4")
    teacher = m["methods"]["teacher"]
    assert "ssim" not in teacher  # no ground truth frames in cross-reenactment
    assert teacher["akd_px"] < m["methods"]["static"]["akd_px"]
    # The render keeps the source's identity, far closer than the driver's own face.
    assert teacher["identity_distance"] < m["methods"]["driver"]["identity_distance"]


def test_region_masks_partition_the_crop_and_region_ssim_localises_damage():
    from avatar_ml.eval.regions import REGIONS, region_masks, region_ssim
    from avatar_ml.landmarks.canonical_mesh import load_canonical_mesh

    v = load_canonical_mesh().vertices[:, :2]
    lm = np.zeros((478, 2), np.float32)
    lm[:468] = (v - v.mean(axis=0)) / np.ptp(v[:, 1]) * np.array([1, -1]) * 120 + 128  # y down, 120 px face
    lm[468:] = lm[[468 % 468]]  # irises unused here
    masks = region_masks(lm)
    stack = np.stack([masks[r] for r in REGIONS]).astype(int)
    assert np.all(stack.sum(axis=0) == 1)  # every pixel in exactly one region
    assert all(masks[r].any() for r in REGIONS)
    rng = np.random.default_rng(0)
    real = rng.integers(0, 256, (CROP_SIZE, CROP_SIZE, 3), dtype=np.uint8)
    gen = real.copy()
    gen[masks["hair"]] = 128  # damage only the hair
    r = region_ssim([gen], [real], [masks])
    assert r["hair"]["ssim"] < 0.5 < r["face"]["ssim"]
    assert r["hair"]["loss"] == max(r[k]["loss"] for k in REGIONS)


def test_ceiling_recovers_a_known_shift_and_its_follow_fraction():
    from avatar_ml.eval.ceiling import follow_fraction, true_backward_flow, warp_by_flow

    rng = np.random.default_rng(1)
    base = cv2.GaussianBlur(rng.integers(0, 256, (160, 160, 3), dtype=np.uint8), (0, 0), 2.0)
    source = base[20:148, 20:148]
    moved = base[24:152, 17:145]  # frame t shows the scene shifted: pixel p of t is p + (-3, +4) in source
    flow = true_backward_flow(moved, source)
    inner = (slice(16, -16), slice(16, -16))
    assert np.allclose(np.median(flow[inner].reshape(-1, 2), axis=0), [-3, 4], atol=0.25)
    assert ssim(warp_by_flow(source, flow)[inner], moved[inner]) > 0.95
    mask = np.zeros(flow.shape[:2], bool)
    mask[inner] = True
    rigid = np.zeros_like(flow)
    rigid[...] = (-3, 4)
    assert follow_fraction(flow, rigid, mask) == pytest.approx(1.0, abs=0.08)
    assert follow_fraction(np.zeros_like(flow), rigid, mask) == 0.0
    assert math.isnan(follow_fraction(flow, np.zeros_like(flow), mask))


def test_agreement_is_ssim_and_psnr_over_the_valid_frames_only():
    from avatar_ml.eval.harness import agreement

    rng = np.random.default_rng(1)
    a = [rng.integers(0, 256, (64, 64, 3), dtype=np.uint8) for _ in range(3)]
    noisy = [np.clip(x.astype(int) + rng.integers(-20, 21, x.shape), 0, 255).astype(np.uint8) for x in a]
    same = agreement(a, a, np.array([True, True, True]))
    assert same["ssim"] == pytest.approx(1.0) and same["psnr"] is None and same["frames"] == 3
    # frame 2 is a different image but invalid: it must not count
    mixed = agreement([noisy[0], noisy[1], a[0]], [a[0], a[1], a[2]], np.array([True, True, False]))
    assert mixed["frames"] == 2
    assert mixed["ssim"] == pytest.approx((ssim(noisy[0], a[0]) + ssim(noisy[1], a[1])) / 2, abs=1e-4)
    assert mixed["psnr"] == pytest.approx((psnr(noisy[0], a[0]) + psnr(noisy[1], a[1])) / 2, abs=1e-3)
    with pytest.raises(ValueError):
        agreement(a, a[:2], np.array([True, True, True]))


def test_cli_cross_reenactment_of_another_model_adds_the_teacher_and_its_agreement(tmp_path):
    """Cross-reenactment has no real frames; a model other than the teacher (a student, warp2d) is also
    measured against the teacher's render on the same crops (`agreement_with_teacher`). The source here is
    a still image (a portrait), as for a student onboarded from a photo."""
    still = tmp_path / "d18_f0.png"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(MEDIA / "d18.mp4"), "-frames:v", "1", str(still)], check=True)
    out = tmp_path / "cross"
    cmd = [sys.executable, "-m", "avatar_ml.eval", "--model", "warp2d", "--clip", str(still),
           "--driver", str(MEDIA / "d10.mp4"), "--frames", "4", "--identity-stride", "2", "--no-degraded",
           "--no-video", "--size", "256", "--out", str(out)]
    proc = subprocess.run(cmd, cwd=REPO, env={"PYTHONPATH": str(REPO / "models"), "PATH": "/usr/bin:/bin"},
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    m = json.loads((out / "metrics.json").read_text())
    assert m["mode"] == "cross" and set(m["methods"]) == {"driver", "warp2d", "teacher", "static"}
    assert "agreement_with_teacher" not in m["methods"]["teacher"]
    w, s = m["methods"]["warp2d"]["agreement_with_teacher"], m["methods"]["static"]["agreement_with_teacher"]
    assert w["frames"] == 4 and 0 < w["ssim"] < 1 and w["psnr"] > 10
    assert w["ssim"] > s["ssim"]  # a warp that moves with the driver agrees better with the teacher than a still


def test_contact_sheet_stacks_one_labelled_frame_per_clip(tmp_path):
    from avatar_ml.eval.contact_sheet import main as contact_sheet
    from avatar_ml.landmarks.video_io import read_image, write_video

    for name, level in (("clipA", 60), ("clipB", 180), ("cross_clipA_by_clipB", 120)):
        d = tmp_path / name
        d.mkdir()
        write_video(d / "side_by_side.mp4", [np.full((64, 128, 3), level, np.uint8)] * 4, fps=25)
        model = "student:/some/dir" if name == "clipB" else "teacher"  # a trained student is scored as "student"
        metrics = {"model": model, "methods": {model.split(":")[0]: {"per_frame": {"ssim": [0.5, 0.6, 0.7, 0.8]}}}}
        (d / "metrics.json").write_text(json.dumps(metrics))
    contact_sheet([str(tmp_path), "--frame", "2", "--scale", "1"])
    sheet = read_image(tmp_path / "contact_sheet.jpg")
    assert sheet.shape[:2] == (2 * (22 + 64), 128)  # two clips, the cross run skipped
    assert abs(int(sheet[22 + 40, 64, 0]) - 60) < 6 and abs(int(sheet[2 * 22 + 64 + 40, 64, 0]) - 180) < 6


def test_every_metric_uses_the_same_stated_frame_set_when_the_person_leaves(tmp_path):
    """The 'gone' case: d10 with the picture blacked out from frame 10 on. ssim and ssim_fixed_crop
    (and every other metric) must be computed over the same 10 frames, and metrics.json must say
    which 20 frames were excluded and why (before: ssim over 10 frames, ssim_fixed_crop over 30)."""
    gone = tmp_path / "gone.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(MEDIA / "d10.mp4"), "-frames:v", "30", "-vf",
                    "drawbox=enable='gte(n,10)':c=black:t=fill", "-c:v", "libx264", "-pix_fmt", "yuv420p", str(gone)],
                   check=True)
    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "avatar_ml.eval", "--model", "teacher", "--clip", str(gone), "--frames", "30",
           "--no-degraded", "--no-video", "--size", "256", "--identity-stride", "3", "--out", str(out)]
    proc = subprocess.run(cmd, cwd=REPO, env={"PYTHONPATH": str(REPO / "models"), "PATH": "/usr/bin:/bin"},
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    m = json.loads((out / "metrics.json").read_text())
    fs = m["frame_set"]
    assert fs["evaluated_count"] == 30 and fs["scored_count"] == 10 and fs["excluded_count"] == 20
    assert fs["excluded"][0]["frames"] == list(range(10, 30)) and "no face" in fs["excluded"][0]["reason"]
    for name in ("teacher", "warp2d", "static"):
        row = m["methods"][name]
        assert row["scored_frames"] == 10
        scored = [i for i, v in enumerate(row["per_frame"]["ssim"]) if v is not None]
        assert scored == list(range(10))
        # the two crops are now judged on the same frames: close, not 0.9 vs 0.3
        assert abs(row["ssim"] - row["ssim_fixed_crop"]) < 0.15, (name, row["ssim"], row["ssim_fixed_crop"])
        assert row["akd_frames"] <= 10


def test_student_60_40_protocol_trains_and_scores_every_method_on_the_held_out_frames(tmp_path):
    clip = tmp_path / "short.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(MEDIA / "d19.mp4"), "-frames:v", "20", "-c:v", "libx264",
                    "-pix_fmt", "yuv420p", "-crf", "16", str(clip)], check=True)
    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "avatar_ml.eval", "--model", "student", "--clip", str(clip), "--train-fraction", "0.6",
           "--student-preset", "fast", "--student-steps", "10", "--size", "256", "--no-video", "--identity-stride", "4",
           "--out", str(out)]
    proc = subprocess.run(cmd, cwd=REPO, env={"PYTHONPATH": str(REPO / "models"), "PATH": "/usr/bin:/bin"},
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    m = json.loads((out / "metrics.json").read_text())
    assert m["frame_set"]["evaluated"] == [12, 19] and m["frame_set"]["train_frames"] == [0, 11]
    for name in ("student", "teacher", "warp2d", "static"):
        row = m["methods"][name]
        for key in ("ssim", "psnr", "akd_px", "mouth_corr", "identity_distance"):
            assert key in row, (name, key)
        assert row["scored_frames"] == 8 and len(row["per_frame"]["ssim"]) == 8
    st = m["methods"]["student"]
    assert st["train_s"] > 0 and st["training"]["train_frames"] == 12 and 0.3 < st["ssim"] <= 1
    gates = json.loads((out / "gates.json").read_text())
    assert set(gates["metrics"]) >= {"ssim", "akd_px", "identity_distance"}
    assert gates["metrics"]["ssim"]["threshold"] == m["methods"]["teacher"]["ssim"]
    assert gates["passed"] == m["gates"]["passed"] and "student gates" in (out / "gate_report.txt").read_text()
    assert (out / "student" / "manifest.json").is_file()


def test_cli_cross_reenactment_records_a_closed_mouth_driver_neutral(tmp_path):
    """--driver-neutral closed-mouth: the retarget neutral is the driver's first frame with the mouth within
    0.02 of its most closed (of the frames read), and metrics.json says which; a bad choice is refused."""
    from avatar_ml.eval.__main__ import parse_args
    from avatar_ml.landmarks.track_io import load_track
    from avatar_ml.teacher.topology import mouth_opening

    with pytest.raises(SystemExit):
        parse_args(["--model", "teacher", "--clip", str(MEDIA / "d18.mp4"), "--out", str(tmp_path), "--driver-neutral", "x"])
    assert parse_args(["--model", "teacher", "--clip", str(MEDIA / "d18.mp4"), "--out", str(tmp_path)]).driver_neutral == "closed-mouth"
    out = tmp_path / "cross"
    cmd = [sys.executable, "-m", "avatar_ml.eval", "--model", "teacher", "--clip", str(MEDIA / "d18.mp4"),
           "--driver", str(MEDIA / "WDA_KatieHill_000.mp4"), "--driver-neutral", "closed-mouth", "--frames", "12",
           "--identity-stride", "6", "--no-degraded", "--no-video", "--out", str(out)]
    proc = subprocess.run(cmd, cwd=REPO, env={"PYTHONPATH": str(REPO / "models"), "PATH": "/usr/bin:/bin"},
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    m = json.loads((out / "metrics.json").read_text())
    assert m["driver_neutral"] == "closed-mouth"
    o = mouth_opening(load_track(REPO / "models" / "motion_library" / "WDA_KatieHill_000.npz").landmarks[:12])
    n = m["driver_neutral_frame"]
    assert 0 <= n < 12 and o[n] <= o.min() + 0.03  # the library's track of the same frames (tracked alike)
