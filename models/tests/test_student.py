"""Student: network shapes and FLOPs budget, export parity, the training CLI's protocol (parsed by the
shared zod schemas in Node), bad-input refusals, resume after a kill, and the harness's student path.

The CLI tests run REAL tiny trainings (`--steps 20 --preset fast`, ~30 s each on a loaded 2-core box).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

ROOT = Path(__file__).resolve().parents[2]
MEDIA = ROOT.parent / "shared" / "media"
if not MEDIA.is_dir():
    MEDIA = ROOT / ".." / "shared" / "media"
PORTRAIT = MEDIA / "s0.jpg"
ENV = dict(os.environ, PYTHONPATH=str(ROOT / "models"), TF_CPP_MIN_LOG_LEVEL="3", OMP_NUM_THREADS="1")

from avatar_ml.landmarks.track_io import load_track  # noqa: E402
from avatar_ml.student.network import LANDMARKS, OUT_SIZE, StudentNet, bilinear_sample, count_flops, export_params  # noqa: E402

MOTION = ROOT / "models" / "motion_library"


def _neutral() -> np.ndarray:
    return load_track(MOTION / "d10.npz").landmarks[0]


def _zod(items: list[tuple[str, object]]) -> dict:
    """Parses values with the shared zod schemas (test/tools/student/parseStudentOutputs.ts)."""
    payload = json.dumps([{"schema": s, "value": v} for s, v in items])
    r = subprocess.run(["npx", "--no-install", "tsx", "test/tools/student/parseStudentOutputs.ts"], input=payload,
                       capture_output=True, text=True, cwd=ROOT, timeout=120)
    return json.loads(r.stdout.strip().splitlines()[-1])


def _train(args: list[str], timeout: float = 240) -> tuple[int, list[dict], str]:
    r = subprocess.run([sys.executable, "-m", "avatar_ml.student.train", *args], capture_output=True, text=True,
                       env=ENV, cwd=ROOT, timeout=timeout)
    lines = [json.loads(x) for x in r.stdout.splitlines()]  # every stdout line must be JSON
    return r.returncode, lines, r.stderr


# ---- network -----------------------------------------------------------------------------------
def test_network_shapes_budget_and_it_follows_its_input():
    torch.manual_seed(0)
    net = StudentNet(_neutral()).eval()
    net.bake(torch.rand(1, 3, OUT_SIZE, OUT_SIZE))
    track = load_track(MOTION / "d10.npz")
    lm = torch.as_tensor(track.landmarks[[0, 200]])
    with torch.no_grad():
        out = net(lm)
    assert out.shape == (2, OUT_SIZE, OUT_SIZE, 3) and out.dtype == torch.uint8
    assert (out[0].int() - out[1].int()).abs().float().mean() > 1.0  # different motion, different frame
    flops = count_flops(net)
    assert 0.3e9 < flops <= 1.5e9, flops
    assert 100_000 < export_params(net) < 5_000_000


def test_bilinear_sample_matches_grid_sample():
    img = torch.rand(1, 5, 16, 16)
    pos = torch.rand(2, 100, 2) * 1.2 - 0.1  # some outside: border clamping
    ref = torch.nn.functional.grid_sample(img.expand(2, -1, -1, -1), (pos * 2 - 1)[:, :, None, :], mode="bilinear",
                                          padding_mode="border", align_corners=False)[..., 0].permute(0, 2, 1)
    got = bilinear_sample(img[0].permute(1, 2, 0).reshape(-1, 5), pos, 16)
    assert torch.allclose(got, ref, atol=1e-5)


def test_prior_flow_is_identity_at_the_neutral_pose_and_follows_a_shift():
    neutral = _neutral()
    net = StudentNet(neutral)
    with torch.no_grad():
        pos = net.prior_flow(torch.as_tensor(neutral[None, :, :2]))
        grid = net.grid_flow.reshape(1, 64, 64, 2)
        assert (pos - grid).abs().max() < 1e-6
        moved = net.prior_flow(torch.as_tensor(neutral[None, :, :2] + np.array([0.02, 0.0], np.float32)))
    # at the nose tip (landmark 1), the backward flow points 0.02 back to the source
    x, y = (neutral[1, :2] + [0.02, 0]) * 64
    d = (moved - grid)[0, int(y), int(x)]
    assert abs(float(d[0]) + 0.02) < 0.004 and abs(float(d[1])) < 0.004


def test_export_form_renders_the_training_forms_pictures_within_a_level():
    """render_export (what the ONNX file holds) vs render (what training optimises), in PyTorch, on a
    network with a non-trivial learned flow and an 8-bit reference: the same flow, frames within 1 level."""
    torch.manual_seed(2)
    net = StudentNet(_neutral()).eval()
    with torch.no_grad():
        net.motion[-1].weight.normal_(0, 0.05)
        net.motion[-1].bias.normal_(0, 0.05)
        net.out.weight.normal_(0, 0.05)
    net.bake(torch.randint(0, 256, (1, 3, OUT_SIZE, OUT_SIZE)).float() / 255)
    lm = torch.as_tensor(load_track(MOTION / "d10.npz").landmarks[[0, 100, 200, 300]])
    with torch.no_grad():
        xy = lm[:, :, :2]
        assert (net.flow_export(xy) - net.flow(xy).permute(0, 3, 1, 2)).abs().max() < 1e-5
        got = net(lm).int()
        ref = torch.clamp(torch.floor(net.render(lm, net.baked_feat, net.baked_rgb) * 255 + 0.5), 0, 255).int()
    assert (got - ref).abs().max() <= 1 and (got - ref).abs().float().mean() < 0.01


def test_export_parity_onnxruntime_vs_pytorch(tmp_path):
    from avatar_ml.student.export import export_onnx

    torch.manual_seed(1)
    net = StudentNet(_neutral()).eval()
    net.bake(torch.rand(1, 3, OUT_SIZE, OUT_SIZE))
    lm = load_track(MOTION / "d10.npz").landmarks[[0, 50, 100]].astype(np.float32)
    info = export_onnx(net, tmp_path / "s.onnx", lm)
    assert info.path.is_file() and not (tmp_path / "s.onnx.tmp").exists()
    assert info.opset >= 17 and len(info.sha256) == 64
    assert info.parity_max_abs_diff <= 1.0
    import onnx

    m = onnx.load(str(info.path))
    assert [i.name for i in m.graph.input] == ["landmarks"] and [o.name for o in m.graph.output] == ["frame"]


# ---- source checks -----------------------------------------------------------------------------
def _check(path: Path) -> tuple[int, dict]:
    r = subprocess.run([sys.executable, "-m", "avatar_ml.student.check_source", "--source", str(path)],
                       capture_output=True, text=True, env=ENV, cwd=ROOT, timeout=120)
    lines = r.stdout.splitlines()
    assert len(lines) == 1, r.stdout + r.stderr
    return r.returncode, json.loads(lines[0])


@pytest.fixture(scope="module")
def bad_inputs(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("bad")
    img = cv2.imread(str(PORTRAIT))
    out = {}
    out["noface"] = d / "noface.png"
    cv2.imwrite(str(out["noface"]), np.tile(np.linspace(0, 255, 400, dtype=np.uint8)[None, :, None], (400, 1, 3)))
    out["two"] = d / "two.jpg"
    cv2.imwrite(str(out["two"]), np.concatenate([img, img], axis=1))
    out["small"] = d / "small.jpg"
    small = cv2.resize(img, (150, 176), interpolation=cv2.INTER_AREA)
    cv2.imwrite(str(out["small"]), small)
    out["garbage"] = d / "garbage.jpg"
    out["garbage"].write_bytes(os.urandom(5000))
    # an EXIF-rotated photo: the pixels stored sideways, orientation 6 (rotate 90 deg clockwise to view)
    from PIL import Image

    out["exif"] = d / "exif.jpg"
    sideways = Image.open(PORTRAIT).transpose(Image.Transpose.ROTATE_90)  # counter-clockwise
    exif = Image.Exif()
    exif[0x0112] = 6
    sideways.save(out["exif"], exif=exif.tobytes(), quality=95)
    return out


@pytest.mark.parametrize("name,code", [("noface", "NO_FACE"), ("two", "MULTIPLE_FACES"), ("small", "FACE_TOO_SMALL"),
                                       ("garbage", "UNREADABLE_INPUT")])
def test_check_source_refuses_bad_input(bad_inputs, name, code):
    rc, line = _check(bad_inputs[name])
    assert rc == 1 and line["ok"] is False and line["code"] == code and line["message"]
    assert _zod([("sourceCheckResult", line)])["ok"]


def test_check_source_accepts_portrait_and_uprights_an_exif_rotated_photo(bad_inputs):
    rc, line = _check(PORTRAIT)
    assert rc == 0 and line["ok"] and line["kind"] == "portrait" and line["rotation"] == 0
    assert (line["width"], line["height"]) == (600, 704)
    rc2, rot = _check(bad_inputs["exif"])
    assert rc2 == 0 and rot["rotation"] == 90 and (rot["width"], rot["height"]) == (600, 704)
    assert abs(rot["faceBox"]["x"] - line["faceBox"]["x"]) < 6 and abs(rot["faceBox"]["y"] - line["faceBox"]["y"]) < 6
    assert _zod([("sourceCheckResult", line), ("sourceCheckResult", rot)])["ok"]


def test_train_refuses_bad_input_with_one_error_line_and_leaves_no_result(bad_inputs, tmp_path):
    rc, lines, _ = _train(["--source", str(bad_inputs["two"]), "--out", str(tmp_path / "o"), "--steps", "5", "--preset", "fast"])
    assert rc == 1
    assert lines[-1]["event"] == "error" and lines[-1]["code"] == "MULTIPLE_FACES"
    assert not (tmp_path / "o" / "manifest.json").exists() and not (tmp_path / "o" / "student.onnx").exists()
    assert _zod([("trainingEvent", x) for x in lines])["ok"]


# ---- a real tiny training ------------------------------------------------------------------------
@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> tuple[Path, list[dict], int]:
    out = tmp_path_factory.mktemp("trained") / "s0"
    rc, lines, err = _train(["--source", str(PORTRAIT), "--out", str(out), "--steps", "20", "--preset", "fast"])
    assert rc == 0, err[-3000:]
    return out, lines, rc


def test_train_protocol_lines_parse_with_the_shared_schema(trained):
    out, lines, _ = trained
    assert lines[-1]["event"] == "done" and lines[-1]["manifest"] == str(out / "manifest.json")
    stages = [x["stage"] for x in lines if x["event"] == "progress"]
    order = ["prepare", "landmarks", "teacher", "train", "export", "evaluate"]
    assert sorted(set(stages), key=order.index) == order and stages == sorted(stages, key=order.index)
    overall = [x["overall"] for x in lines if x["event"] == "progress"]
    assert overall == sorted(overall) and overall[-1] == 1.0
    assert any(x.get("loss") is not None for x in lines if x["event"] == "progress")
    manifest = json.loads((out / "manifest.json").read_text())
    res = _zod([("trainingEvent", x) for x in lines] + [("studentManifest", manifest)])
    assert res["ok"], res


def test_trained_student_manifest_and_onnx_agree(trained):
    import onnxruntime as ort

    from avatar_ml.files import sha256_file

    out, _, _ = trained
    m = json.loads((out / "manifest.json").read_text())
    assert m["model"]["sha256"] == sha256_file(out / "student.onnx")
    assert m["identity"]["sourceSha256"] == sha256_file(PORTRAIT)
    assert m["training"]["steps"] == 20 and m["model"]["flopsPerFrame"] <= 1.5e9
    assert m["training"]["recipe"]["head_motion"] == 0.5  # a portrait: the portrait default (PORTRAIT_HEAD_MOTION)
    assert m["model"]["parityMaxAbsDiff"] <= 1
    q = m["model"]["int8"]  # the CPU serving variant, quantised at export
    assert q["sha256"] == sha256_file(out / q["file"]) and q["parity"]["meanAbsDiff"] <= 1.0 and q["parity"]["psnrDb"] >= 40
    assert not (out / ".work").exists()  # work files removed on success
    s = ort.InferenceSession(str(out / "student.onnx"), providers=["CPUExecutionProvider"])
    neutral = np.asarray(m["identity"]["neutralLandmarks"], np.float32).reshape(1, LANDMARKS, 3)
    frame = s.run(["frame"], {"landmarks": neutral})[0]
    assert frame.shape == (1, 256, 256, 3) and frame.dtype == np.uint8
    assert 30 < frame.mean() < 230  # a picture, not a blank


def test_killed_training_resumes_and_a_changed_recipe_is_refused(tmp_path):
    out = tmp_path / "r"
    args = ["--source", str(PORTRAIT), "--out", str(out), "--steps", "60", "--preset", "fast"]
    proc = subprocess.Popen([sys.executable, "-m", "avatar_ml.student.train", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True, env=ENV, cwd=ROOT)
    killed_at = None
    for raw in proc.stdout:
        ev = json.loads(raw)
        if ev["event"] == "progress" and ev["stage"] == "train" and ev["step"] >= 14:  # checkpoint every 12 steps
            proc.send_signal(signal.SIGKILL)
            killed_at = ev["step"]
            break
    proc.wait(timeout=60)
    assert killed_at is not None
    assert not (out / "manifest.json").exists() and not (out / "student.onnx").exists()
    assert (out / ".work" / "ckpt.pt").exists()
    rc, lines, _ = _train(args[:-4] + ["--steps", "61", "--preset", "fast", "--resume"])
    assert rc == 1 and lines[-1]["code"] == "RESUME_MISMATCH"
    rc, lines, err = _train(args + ["--resume"])
    assert rc == 0, err[-2000:]
    first_train = next(x for x in lines if x["event"] == "progress" and x["stage"] == "train")
    assert first_train["step"] >= 12  # continued, did not start over
    assert not any(x["stage"] == "landmarks" and x["step"] == 10 for x in lines if x["event"] == "progress")
    assert json.loads((out / "manifest.json").read_text())["training"]["steps"] == 60


def test_time_budget_shortens_the_run_to_fit():
    from dataclasses import replace
    from types import SimpleNamespace

    from avatar_ml.student.trainer import PRESETS, Trainer

    t = SimpleNamespace(step=20, train_s=20.0, recipe=PRESETS["default"])  # 1 s per step so far, 600 planned
    assert Trainer.fit_to_budget(t, 100.0, 50) == 120 and t.recipe.steps == 120  # 100 s left -> 100 more steps
    assert Trainer.fit_to_budget(t, 1000.0, 50) is None and t.recipe.steps == 120  # never lengthened
    assert Trainer.fit_to_budget(t, -5.0, 50) == 50  # over budget: the floor
    assert t.recipe.gan_from == PRESETS["default"].gan_from  # fractions follow the new length
    # the machine got faster after a cut: back up to the planned count, never above it
    t = SimpleNamespace(step=20, train_s=20.0, recipe=PRESETS["default"])
    assert Trainer.fit_to_budget(t, 100.0, 50, 600) == 120
    t.step, t.train_s = 40, 30.0  # 0.75 s per step now on average
    assert Trainer.fit_to_budget(t, 300.0, 50, 600) == 440 and t.recipe.steps == 440
    assert Trainer.fit_to_budget(t, 5000.0, 50, 600) == 600
    assert Trainer.fit_to_budget(t, 5000.0, 50, 600) is None and t.recipe.steps == 600
    # a re-fit when the last planned step is done never adds steps (a budget-floored run stays at the floor)
    t = SimpleNamespace(step=50, train_s=50.0, recipe=replace(PRESETS["default"], steps=50))
    assert Trainer.fit_to_budget(t, 100.0, 50, 70) is None and t.recipe.steps == 50


def test_train_with_a_time_budget_records_planned_and_run_steps(tmp_path):
    out = tmp_path / "b"
    rc, lines, err = _train(["--source", str(PORTRAIT), "--out", str(out), "--steps", "70", "--preset", "fast",
                             "--time-budget-s", "1"])
    assert rc == 0, err[-2000:]
    assert "time budget" in err
    totals = [x["total"] for x in lines if x["event"] == "progress" and x["stage"] == "train"]
    assert totals[0] == 70 and totals[-1] == 50  # the budget's floor (MIN_BUDGET_STEPS)
    m = json.loads((out / "manifest.json").read_text())
    assert m["training"]["steps"] == 50
    assert m["training"]["recipe"]["planned_steps"] == 70 and m["training"]["recipe"]["time_budget_s"] == 1.0


def test_reexport_keeps_the_pictures_and_is_idempotent(tmp_path):
    """The shipped demo student re-exported with the current graph: same frames within 1 level."""
    import shutil

    from avatar_ml.files import sha256_file
    from avatar_ml.student.export import validate_manifest
    from avatar_ml.student.reexport import reexport

    model = tmp_path / "demo"
    shutil.copytree(ROOT / "models" / "identities" / "demo", model)
    first = reexport(model)
    assert first["max_levels_vs_previous"] <= 1
    m = json.loads((model / "manifest.json").read_text())
    validate_manifest(m)
    assert m["model"]["sha256"] == sha256_file(model / "student.onnx") == first["sha256"]
    again = reexport(model, dry_run=True)
    assert again["sha256"] == first["sha256"] and again["max_levels_vs_previous"] == 0
    assert m["model"]["int8"]["sha256"] == sha256_file(model / "student.int8.onnx") == first["int8"]["sha256"]


def test_quantize_keeps_the_motion_net_and_output_in_float_and_stays_within_parity(tmp_path):
    """The int8 serving variant of the demo student: decoder convolutions quantised (QDQ), the motion
    net and the output conv left float, frames within the bounds; out-of-bounds parity writes nothing."""
    import onnx

    from avatar_ml.files import sha256_file
    from avatar_ml.student import quantize as q

    demo = ROOT / "models" / "identities" / "demo"
    manifest = json.loads((demo / "manifest.json").read_text())
    frames = q.motion_library_landmarks(manifest, 40)
    out = tmp_path / "student.int8.onnx"
    block = q.quantize_student(demo / "student.onnx", out, frames[:24], frames[24:])
    assert block["sha256"] == sha256_file(out) and block["parity"]["frames"] == 16
    assert block["parity"]["meanAbsDiff"] <= q.MAX_MEAN_LEVELS and block["parity"]["psnrDb"] >= q.MIN_PSNR_DB
    nodes = onnx.load(str(out)).graph.node
    quantised_inputs = {i for n in nodes if n.op_type == "Conv" for i in n.input}
    dq_outputs = {o for n in nodes if n.op_type == "DequantizeLinear" for o in n.output}
    convs = {n.name: any(i in dq_outputs for i in n.input) for n in nodes if n.op_type == "Conv"}
    assert quantised_inputs and not convs["/motion/motion.0/Conv"] and not convs["/out/Conv"]
    assert convs["/up/Conv"] and convs["/res1/a/Conv"] and block["quantizedConvs"] == 6
    # a bound the variant cannot meet: refused, nothing written
    bad = tmp_path / "bad.int8.onnx"
    old = q.MIN_PSNR_DB
    q.MIN_PSNR_DB = 99.0
    try:
        with pytest.raises(q.QuantizeError):
            q.quantize_student(demo / "student.onnx", bad, frames[:8], frames[8:12])
    finally:
        q.MIN_PSNR_DB = old
    assert not bad.exists() and not list(tmp_path.glob(".bad*"))


def test_teacher_renders_with_the_learned_selfie_matte():
    """--teacher-matte selfie: the training renders' teacher layers its foreground with the selfie matte."""
    from avatar_ml.landmarks.extractor import FaceLandmarkExtractor
    from avatar_ml.student.data import teacher_renders, track_source
    from avatar_ml.student.reference import reference_square
    from avatar_ml.student.source import load_source

    src = load_source(PORTRAIT)
    track = track_source(src, FaceLandmarkExtractor(threads=1), 1)
    neutral_px = track.landmarks[0]
    ref = reference_square(neutral_px, src.width, src.height)
    grab, lm_g, _ = teacher_renders(src, 0, neutral_px, ref, 2, matte="grabcut")
    selfie, lm_s, _ = teacher_renders(src, 0, neutral_px, ref, 2, matte="selfie")
    assert np.array_equal(lm_g, lm_s)  # same motion, only the matte differs
    assert selfie.shape == grab.shape and selfie.dtype == np.uint8 and 30 < selfie.mean() < 230
    assert np.abs(selfie.astype(int) - grab.astype(int)).max() > 10  # the layering differs somewhere
    with pytest.raises(ValueError, match="unknown teacher matte"):
        teacher_renders(src, 0, neutral_px, ref, 1, matte="chroma")


def test_harness_scores_the_int8_variant_as_its_own_method():
    from avatar_ml.eval.registry import resolve_model

    demo = ROOT / "models" / "identities" / "demo"
    spec = resolve_model(f"student-int8:{demo}")
    assert spec.name == "student-int8"
    frame = np.zeros((512, 512, 3), np.uint8)
    avatar = spec.factory(frame, None, 512)
    m = json.loads((demo / "manifest.json").read_text())
    assert avatar.session._model_path.endswith(m["model"]["int8"]["file"])
    neutral = np.asarray(m["identity"]["neutralLandmarks"], np.float32).reshape(LANDMARKS, 3)
    assert avatar.render_reference(neutral).shape == (OUT_SIZE, OUT_SIZE, 3)


def test_quantize_cli_refuses_a_directory_that_is_not_a_student(tmp_path, capsys):
    from avatar_ml.student import quantize as q

    assert q.main(["--model", str(tmp_path)]) == 1
    assert "no manifest.json" in json.loads(capsys.readouterr().out)["error"]
    (tmp_path / "manifest.json").write_text('{"foo": 1}')
    assert q.main(["--model", str(tmp_path)]) == 1
    assert "not a student manifest (manifest: schemaVersion)" in json.loads(capsys.readouterr().out)["error"]


def test_random_head_motion_moves_the_head_rigidly_within_its_ranges():
    """The augmentation is a similarity in the image plane about the face: expression kept, moves bounded."""
    from avatar_ml.student.data import HeadMotionRange, random_head_motion
    from avatar_ml.teacher.topology import FACE_OVAL

    lm, size = _neutral(), (512, 512)
    px = lambda x: x[:, :2] * np.array(size)  # noqa: E731
    fh = float(np.linalg.norm(px(lm)[10] - px(lm)[152]))
    rng, r = np.random.default_rng(3), HeadMotionRange()
    shifts = []
    for _ in range(50):
        out = random_head_motion(lm, lm, size, rng)
        assert out.shape == lm.shape and out.dtype == np.float32
        d0 = np.linalg.norm(px(lm)[:, None] - px(lm)[None], axis=-1)
        d1 = np.linalg.norm(px(out)[:, None] - px(out)[None], axis=-1)
        s = float(np.median(d1[d0 > 1] / d0[d0 > 1]))
        assert r.scale[0] - 1e-4 <= s <= r.scale[1] + 1e-4
        assert np.allclose(d1, s * d0, atol=1e-2 * fh)  # rigid + scale: the expression is untouched
        assert np.allclose(out[:, 2], lm[:, 2] * s, atol=1e-6)
        t = (px(out)[FACE_OVAL].mean(0) - px(lm)[FACE_OVAL].mean(0)) / fh
        assert -r.dx - 1e-3 <= t[0] <= r.dx + 1e-3 and -r.dy_up - 1e-3 <= t[1] <= r.dy_down + 1e-3
        shifts.append(np.abs(t).max())
    assert max(shifts) > 0.3  # it does move the head far (the library's motion stays within ~0.3)


def test_portraits_get_head_motion_by_default_and_clips_do_not():
    from avatar_ml.student.trainer import PORTRAIT_HEAD_MOTION, PRESETS, recipe_for

    assert recipe_for("default", "portrait").head_motion == PORTRAIT_HEAD_MOTION > 0
    assert recipe_for("default", "clip").head_motion == 0.0
    assert recipe_for("fast", "portrait", head_motion=0.0).head_motion == 0.0
    r = recipe_for("default", "clip", steps=40, head_motion=0.25)
    assert r.head_motion == 0.25 and r.steps == 40 and r.batch == PRESETS["default"].batch
    assert recipe_for("default", "portrait", teacher_frames=480).teacher_frames == 480
    with pytest.raises(ValueError, match="head_motion"):
        recipe_for("default", "portrait", head_motion=1.5)
    with pytest.raises(ValueError, match="teacher_frames"):
        recipe_for("default", "portrait", teacher_frames=0)


def _portrait_neutral_and_reference():
    """The test portrait loaded, its landmarks (478,3) and its reference square, as `train` makes them."""
    from avatar_ml.landmarks.extractor import FaceLandmarkExtractor
    from avatar_ml.student.data import track_source
    from avatar_ml.student.reference import reference_square
    from avatar_ml.student.source import load_source

    src = load_source(PORTRAIT)
    neutral = track_source(src, FaceLandmarkExtractor(threads=1), 1).landmarks[0]
    return src, neutral, reference_square(neutral, src.width, src.height)


def test_teacher_renders_with_head_motion_move_the_driving_head():
    """head_motion=1: every render's driving landmarks are the library's motion moved by a random head
    motion; head_motion=0: exactly the renders without it."""
    from avatar_ml.student.data import teacher_renders

    src, neutral, ref = _portrait_neutral_and_reference()
    plain, lm0, _ = teacher_renders(src, 0, neutral, ref, 5)
    again, lm0b, _ = teacher_renders(src, 0, neutral, ref, 5, head_motion=0.0)
    moved, lm1, _ = teacher_renders(src, 0, neutral, ref, 5, head_motion=1.0)
    assert np.array_equal(lm0, lm0b) and np.array_equal(plain, again)
    assert lm1.shape == lm0.shape and moved.shape == plain.shape
    centre = lambda x: x[:, :, :2].mean(axis=1)  # noqa: E731
    assert np.all(np.linalg.norm(centre(lm1) - centre(lm0), axis=1) > 1e-3)  # every head moved
    assert np.abs(moved.astype(int) - plain.astype(int)).mean() > 3  # and the teacher rendered it there
    with pytest.raises(ValueError, match="head_motion"):
        teacher_renders(src, 0, neutral, ref, 1, head_motion=-0.1)


def test_ssim_loss_matches_the_harness_metric_and_the_pooled_form():
    """The training SSIM (separable box filter) is scikit-image's SSIM, and the avg_pool2d form it replaced."""
    import torch.nn.functional as F

    from avatar_ml.eval.metrics import ssim
    from avatar_ml.student.losses import box_mean, ssim_map

    rng = np.random.default_rng(0)
    a = rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)
    b = np.clip(a.astype(int) + rng.integers(-40, 40, a.shape), 0, 255).astype(np.uint8)
    ta, tb = (torch.from_numpy(x).float().permute(2, 0, 1)[None] / 255 for x in (a, b))
    assert abs(float(ssim_map(ta, tb).mean()) - ssim(a, b)) < 1e-4
    x = torch.rand(2, 3, 40, 40).permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2)  # channels-last, like render()
    assert torch.allclose(box_mean(x, 7), F.avg_pool2d(x, 7, 1), atol=1e-6)


def test_part_lips_opens_the_mouth_by_lowering_the_lower_lip_only():
    """part_lips reaches the target opening (teacher.topology.mouth_opening), moves only the lower lip and
    what lies below the corner line (downwards), keeps the upper lip and corners, and leaves a mouth that
    is already open enough alone."""
    from avatar_ml.student.data import LOWER_LIP, MOUTH_CORNERS, UPPER_LIP, part_lips
    from avatar_ml.teacher.topology import mouth_opening

    lm, size = _neutral(), (512, 512)
    assert mouth_opening(lm) < 0.05
    for target in (0.05, 0.2, 0.4):
        out = part_lips(lm, size, target)
        assert out.shape == lm.shape and out.dtype == np.float32
        assert abs(float(mouth_opening(out)) - target) < 0.01
        moved = np.linalg.norm(out[:, :2] - lm[:, :2], axis=1)
        assert np.all(moved[UPPER_LIP] == 0) and np.all(moved[MOUTH_CORNERS] == 0)
        assert np.all(moved[LOWER_LIP] > 0)
        above = (lm[:, 1] < lm[[78, 308], 1].min() - 0.01)  # above the mouth corners (upright face)
        assert np.all(moved[above] == 0)
        assert np.all(out[:, 1] >= lm[:, 1] - 1e-7)  # nothing moves up
        assert np.array_equal(out[:, 2], lm[:, 2])
    from avatar_ml.eval.retarget_mouth import signed_lip_gap

    assert signed_lip_gap(part_lips(lm, size, 0.3)) > 0.25  # parted, not crossed
    crossed = lm.copy()
    crossed[14, 1] = lm[13, 1] - 0.01  # lower inner lip above the upper one
    assert signed_lip_gap(crossed) < 0
    wide = part_lips(lm, size, 0.3)
    assert np.array_equal(part_lips(wide, size, 0.2), wide)


def test_lip_part_recipe_field_defaults_and_bounds():
    from avatar_ml.student.trainer import PORTRAIT_LIP_PART, recipe_for

    assert recipe_for("default", "portrait").lip_part == PORTRAIT_LIP_PART
    assert recipe_for("default", "clip").lip_part == 0.0
    assert recipe_for("default", "portrait", lip_part=0.0).lip_part == 0.0
    assert recipe_for("fast", "clip", lip_part=0.35).lip_part == 0.35
    assert "lip_part" in recipe_for("default", "portrait").as_dict()  # in the manifest's recipe and resume key
    with pytest.raises(ValueError, match="lip_part"):
        recipe_for("default", "portrait", lip_part=1.5)


def test_teacher_renders_with_lip_part_open_the_driving_mouths():
    """lip_part=1: every render's driving mouth is at least LIP_PART_OPENING[0] open; lip_part=0: exactly
    the renders without it."""
    from avatar_ml.student.data import LIP_PART_OPENING, teacher_renders
    from avatar_ml.teacher.topology import mouth_opening

    src, neutral, ref = _portrait_neutral_and_reference()
    plain, lm0, _ = teacher_renders(src, 0, neutral, ref, 6)
    again, lm0b, _ = teacher_renders(src, 0, neutral, ref, 6, lip_part=0.0)
    parted, lm1, _ = teacher_renders(src, 0, neutral, ref, 6, lip_part=1.0)
    assert np.array_equal(lm0, lm0b) and np.array_equal(plain, again)
    assert np.all(mouth_opening(lm1) >= LIP_PART_OPENING[0] - 1e-3)
    assert np.all(mouth_opening(lm1) >= mouth_opening(lm0) - 1e-3)
    assert np.abs(parted.astype(int) - plain.astype(int)).max() > 50  # the teacher rendered the parted lips
    with pytest.raises(ValueError, match="lip_part"):
        teacher_renders(src, 0, neutral, ref, 1, lip_part=-0.1)


def test_closed_mouth_driver_neutral_keeps_retargeted_lips_apart():
    """WDA_KatieHill_000 starts mid-word (frame 0 opening ~0.2): retargeted from its first frame onto a
    closed mouth, its more-closed frames push the lower lip above the upper one; from its closed-mouth
    frame they do not, and the retargeted opening follows the driver's own."""
    from avatar_ml.eval.retarget_mouth import signed_lip_gap as _signed_lip_gap
    from avatar_ml.landmarks.retarget import closed_mouth_frame, driver_neutral, retarget
    from avatar_ml.teacher.topology import mouth_opening

    kh = load_track(MOTION / "WDA_KatieHill_000.npz")
    target = _neutral()
    assert driver_neutral(kh, "first") == 0 and mouth_opening(kh.landmarks[0]) > 0.15
    n = driver_neutral(kh, "closed-mouth")
    assert n == closed_mouth_frame(kh) and n > 0
    o = mouth_opening(kh.landmarks[kh.valid])
    assert mouth_opening(kh.landmarks[n]) <= o.min() + 0.02
    own = mouth_opening(kh.landmarks)
    for choice, crossed_max, corr_min in (("first", 1.0, -1.0), ("closed-mouth", 0.02, 0.95)):
        rt = retarget(kh, driver_neutral(kh, choice), target)
        ok = rt.valid & np.all(np.isfinite(rt.landmarks), axis=(1, 2))
        crossed = float((_signed_lip_gap(rt.landmarks[ok]) < -0.02).mean())
        corr = float(np.corrcoef(mouth_opening(rt.landmarks[ok]), own[ok])[0, 1])
        if choice == "first":
            assert crossed > 0.2 and corr < 0  # the fault this option exists for
        else:
            assert crossed <= crossed_max and corr >= corr_min
    d10 = load_track(MOTION / "d10.npz")  # starts with the mouth closed: both choices agree
    assert driver_neutral(d10, "closed-mouth") == driver_neutral(d10, "first") == 0
    with pytest.raises(ValueError, match="driver neutral"):
        driver_neutral(kh, "middle")


def test_driver_neutral_recipe_field_defaults_and_bounds():
    from avatar_ml.student.trainer import PORTRAIT_DRIVER_NEUTRAL, recipe_for

    assert recipe_for("default", "portrait").driver_neutral == PORTRAIT_DRIVER_NEUTRAL
    assert recipe_for("default", "clip").driver_neutral == "first"
    assert recipe_for("fast", "clip", driver_neutral="closed-mouth").driver_neutral == "closed-mouth"
    assert "driver_neutral" in recipe_for("default", "portrait").as_dict()
    with pytest.raises(ValueError, match="driver_neutral"):
        recipe_for("default", "portrait", driver_neutral="last")
