"""CLI: `python -m avatar_ml.student.train --source <portrait.jpg|clip.mp4> --out <dir>
[--resume] [--steps N] [--preset fast|default] [--time-budget-s S] [--train-fraction F] [--threads 1]
[--teacher-matte selfie|grabcut] [--teacher-renders N] [--head-motion P] [--lip-part P] [--driver-neutral first|closed-mouth] [--exclude-motion CLIP]`.

Trains one identity's student and leaves in `<dir>`: `student.onnx`, `preview.png`, `gates.json`,
`gate_report.txt`, `previews/step_*.png` and, last of all and atomically, `manifest.json`.
stdout carries only the protocol lines of `protocol.py` (trainingEventSchema); logs go to stderr.
Exit 0 after `done`, 1 after an `error` line. Work files (training set, checkpoint) live in
`<dir>/.work/` until success; `--resume` continues from its checkpoint (RESUME_MISMATCH if the
source or recipe differ). Stale results in `<dir>` are removed before a new run writes anything.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
import traceback
from pathlib import Path

import numpy as np

TEACHER_VERSION = "teacher-v1.2"
DEFAULT_TRAIN_FRACTION = 0.9  # clips: the last 10% is held out for the gates
MIN_BUDGET_STEPS = 50  # a time budget never cuts training below this
BUDGET_CHECK_EVERY = 25  # steps between re-fits of the step count to the time budget


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


class ResumeMismatch(Exception):
    pass


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m avatar_ml.student.train",
                                description="Train a per-identity student; JSON progress lines on stdout.")
    p.add_argument("--source", required=True, type=Path, help="portrait (jpg/png) or clip (mp4)")
    p.add_argument("--out", required=True, type=Path, help="output directory")
    p.add_argument("--resume", action="store_true", help="continue from <out>/.work/ckpt.pt")
    p.add_argument("--steps", type=int, help="training steps (default: the preset's)")
    p.add_argument("--preset", choices=["fast", "default"], default="default")
    p.add_argument("--time-budget-s", type=float, default=None, metavar="S",
                   help="finish the whole run (from start to manifest) within about S seconds of wall time: "
                        "after the first steps the step count is shortened to fit, at least %d steps" % MIN_BUDGET_STEPS)
    p.add_argument("--train-fraction", type=float, default=DEFAULT_TRAIN_FRACTION,
                   help="clips: leading share of the frames used for training; the rest scores the gates")
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1)")
    p.add_argument("--teacher-matte", choices=["grabcut", "selfie"], default="selfie",
                   help="the teacher's person matte for the training renders: the learned selfie matte of "
                        "@mediapipe/selfie_segmentation (default: it gave better students on d12 and d14, "
                        "models/README.md) or the teacher's own GrabCut")
    p.add_argument("--teacher-renders", type=int, default=None, metavar="N",
                   help="teacher renders of the retargeted motion library in the training set (default: the preset's)")
    p.add_argument("--head-motion", type=float, default=None, metavar="P",
                   help="share (0..1) of the teacher renders driven with a random in-plane head motion on top of "
                        "the retargeted library motion (default: 0.5 for a portrait, 0 for a clip)")
    p.add_argument("--lip-part", type=float, default=None, metavar="P",
                   help="share (0..1) of the teacher renders driven with the lips parted to a random small-to-medium "
                        "opening (data.part_lips; default: trainer.PORTRAIT_LIP_PART for a portrait, 0 for a clip)")
    p.add_argument("--driver-neutral", choices=["first", "closed-mouth"], default=None,
                   help="each motion-library clip's retarget neutral frame for the teacher renders: its first frame, or "
                        "its first frame with the mouth closed (landmarks.retarget.closed_mouth_frame; default: "
                        "trainer.PORTRAIT_DRIVER_NEUTRAL for a portrait, first for a clip)")
    p.add_argument("--exclude-motion", action="append", default=[], metavar="CLIP",
                   help="leave this motion-library clip (e.g. d10.mp4) out of the teacher renders (repeatable); "
                        "the source's own clip is always left out")
    a = p.parse_args(argv)
    if a.steps is not None and a.steps < 1:
        p.error("--steps must be >= 1")
    if a.time_budget_s is not None and a.time_budget_s <= 0:
        p.error("--time-budget-s must be > 0")
    if a.teacher_renders is not None and a.teacher_renders < 1:
        p.error("--teacher-renders must be >= 1")
    if a.head_motion is not None and not 0.0 <= a.head_motion <= 1.0:
        p.error("--head-motion must be in [0, 1]")
    if a.lip_part is not None and not 0.0 <= a.lip_part <= 1.0:
        p.error("--lip-part must be in [0, 1]")
    if not 0.05 <= a.train_fraction <= 1.0:
        p.error("--train-fraction must be in [0.05, 1]")
    return a


def _clean_results(out: Path) -> None:
    for name in ("manifest.json", "student.onnx", "student.int8.onnx", "preview.png", "preview.mp4", "gates.json", "gate_report.txt"):
        (out / name).unlink(missing_ok=True)
    shutil.rmtree(out / "previews", ignore_errors=True)


def _write_preview_video(path: Path, real: np.ndarray | None, student: np.ndarray, teacher: np.ndarray) -> None:
    """The gate frames side by side, 8 fps: real | student | teacher for a clip's held-out frames,
    teacher | student for a portrait (no real frames exist for its motion). (K,256,256,3) uint8 each."""
    from ..landmarks.video_io import write_video

    columns = [real, student, teacher] if real is not None else [teacher, student]
    write_video(path, np.concatenate([np.asarray(c, dtype=np.uint8) for c in columns], axis=2), fps=8, crf=26)


def _write_png(path: Path, rgb: np.ndarray) -> None:
    import cv2

    tmp = path.with_name(path.stem + ".tmp.png")
    cv2.imwrite(str(tmp), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    os.replace(tmp, path)


def gate_report(gates: dict) -> str:
    lines = [f"gates: {'PASSED' if gates['passed'] else 'FAILED'}  ({gates['evaluatedOn']})",
             f"{'metric':<20} {'value':>9} {'op':>3} {'threshold':>9}  result  reference"]
    for k, g in gates["metrics"].items():
        ref = ", ".join(f"{n}={v}" for n, v in (g.get("reference") or {}).items())
        lines.append(f"{k:<20} {g['value']:>9.4f} {g['op']:>3} {g['threshold']:>9.4f}  "
                     f"{'pass' if g['passed'] else 'FAIL':<6}  {ref}")
    return "\n".join(lines) + "\n"


def run(a: argparse.Namespace, em) -> tuple[Path, bool]:
    import torch

    from ..landmarks.extractor import FaceLandmarkExtractor
    from .data import TrainingSet, build_training_set, teacher_renders, track_source
    from .export import export_onnx, machine, now_iso, tensor_specs, write_manifest
    from .gates import evaluate_gates, render_student
    from .network import OUT_SIZE
    from .source import check_faces, load_source
    from .trainer import Trainer, recipe_for

    t_start = time.perf_counter()
    torch.set_num_threads(max(1, a.threads))
    out: Path = a.out.resolve()
    work = out / ".work"
    em.progress("prepare", 0, 3)
    src = load_source(a.source)
    extractor = FaceLandmarkExtractor(threads=max(1, a.threads))
    face = check_faces(src, extractor)
    log(f"train: {src.kind} {src.path.name} {src.width}x{src.height}, {len(src.frames)} frames read, face {face.as_dict()}")
    em.progress("prepare", 1, 3)
    recipe = recipe_for(a.preset, src.kind, a.steps, a.head_motion, a.teacher_renders, a.lip_part,
                        a.driver_neutral)
    n = len(src.frames)
    train_frames = max(1, int(round(a.train_fraction * n))) if src.kind == "clip" else 1
    key = {"source_sha256": src.sha256, "preset": a.preset, "recipe": recipe.as_dict(),
           "train_fraction": a.train_fraction if src.kind == "clip" else 1.0, "frames_read": n,
           "exclude_motion": sorted(a.exclude_motion), "teacher_matte": a.teacher_matte}
    out.mkdir(parents=True, exist_ok=True)
    if a.resume and (work / "recipe.json").is_file():
        old = json.loads((work / "recipe.json").read_text())
        if old != key:
            diff = sorted(k for k in key if old.get(k) != key[k])
            raise ResumeMismatch(f"The checkpoint in {work} was made from another source or recipe ({', '.join(diff)}); "
                                 "run without --resume to start over.")
    else:
        if a.resume:
            log("train: --resume but no checkpoint: starting from scratch")
        shutil.rmtree(work, ignore_errors=True)
    _clean_results(out)
    work.mkdir(parents=True, exist_ok=True)
    (work / "recipe.json").write_text(json.dumps(key, indent=1))
    em.progress("prepare", 3, 3)

    # ---- landmarks + teacher (cached in .work for --resume) ---------------------------------
    ts_path, track_path = work / "data.npz", work / "track.npz"
    if ts_path.is_file() and track_path.is_file():
        ts = TrainingSet.load(ts_path)
        z = np.load(track_path)
        track_lm, track_valid = z["landmarks"], z["valid"]
        em.progress("landmarks", 1, 1)
        em.progress("teacher", 1, 1)
    else:
        prog = lambda stage, i, total: em.progress(stage, i, total)  # noqa: E731
        track = track_source(src, extractor, n if src.kind == "clip" else 1, prog)
        em.progress("landmarks", 1, 1)
        ts = build_training_set(src, extractor, train_frames, recipe.teacher_frames, prog, track=track,
                                exclude_motion=tuple(a.exclude_motion), matte=a.teacher_matte,
                                head_motion=recipe.head_motion, lip_part=recipe.lip_part,
                                driver_neutral=recipe.driver_neutral)
        track_lm, track_valid = track.landmarks, track.valid
        np.savez(work / "track.tmp.npz", landmarks=track_lm, valid=track_valid)
        os.replace(work / "track.tmp.npz", track_path)
        ts.save(ts_path)
        em.progress("teacher", 1, 1)
    log(f"train: {int(ts.is_real.sum())} real frames + {int((~ts.is_real).sum())} teacher renders; reference {ts.ref}")

    # ---- train ----------------------------------------------------------------------------
    trainer = Trainer(ts, recipe, work)
    if a.resume and trainer.load():
        log(f"train: resumed at step {trainer.step}")
    (out / "previews").mkdir(exist_ok=True)
    tail_s = 35.0  # export (~5 s), the int8 variant (~15 s: calibration, parity, timing), evaluate: roughly

    planned_steps = recipe.steps

    def on_step(step: int, total: int, loss: float) -> None:
        if a.time_budget_s is not None and (step == 10 or (step > 10 and step % BUDGET_CHECK_EVERY == 0)):
            left = a.time_budget_s - (time.perf_counter() - t_start) - tail_s
            fit = trainer.fit_to_budget(left, MIN_BUDGET_STEPS, planned_steps)
            if fit is not None:
                log(f"train: time budget {a.time_budget_s:.0f} s: {fit} steps instead of {planned_steps} "
                    f"({trainer.train_s / step:.2f} s per step)")
                total = fit
        per = trainer.train_s / max(step, 1)
        em.progress("train", step, total, loss, per * (total - step) + tail_s)

    def on_preview(step: int, img: np.ndarray) -> None:
        p = out / "previews" / f"step_{step:06d}.png"
        _write_png(p, img)
        per = trainer.train_s / max(step, 1)
        em.progress("train", step, trainer.recipe.steps, trainer.loss_ema, per * (trainer.recipe.steps - step) + tail_s, preview=str(p))

    # held-out frames of a clip (the tail after --train-fraction): the gates, and the quality curve
    tail = [i for i in range(train_frames, n) if track_valid[i]] if src.kind == "clip" else []
    held_out = None
    if tail:
        pick = [tail[j] for j in np.linspace(0, len(tail) - 1, min(recipe.eval_frames, len(tail))).round().astype(int)]
        frames_ref = np.stack([ts.ref.crop(src.frames[i], OUT_SIZE) for i in pick])
        lm_eval = ts.ref.to_reference(track_lm[pick]).astype(np.float32)
        curve_n = min(8, len(pick))
        sub = np.linspace(0, len(pick) - 1, curve_n).round().astype(int)
        held_out = (frames_ref[sub], lm_eval[sub])
    em.progress("train", trainer.step, recipe.steps, trainer.loss_ema)
    trainer.run(on_step, on_preview, held_out=held_out)
    if trainer.curve:
        log("train: held-out SSIM by step: " + ", ".join(f"{st}:{q}" for st, _, q in trainer.curve))

    # ---- export -----------------------------------------------------------------------------
    em.progress("export", 0, 3)
    net = trainer.baked()
    rng = np.random.default_rng(1)
    parity = np.concatenate([ts.neutral[None], ts.landmarks[rng.choice(len(ts.landmarks), 7)]]).astype(np.float32)
    info = export_onnx(net, out / "student.onnx", parity)
    log(f"train: exported {info.path.name}: {info.flops / 1e9:.3f} GFLOPs, {info.params} params, "
        f"parity max |diff| {info.parity_max_abs_diff}")
    em.progress("export", 2, 3)
    int8 = quantize_trained(out / "student.onnx", ts.landmarks, log)
    em.progress("export", 3, 3)

    # ---- evaluate (gates) -------------------------------------------------------------------
    from ..teacher import TeacherConfig, TeacherRenderer

    em.progress("evaluate", 0, 4)
    side = int(round(ts.ref.side))
    neutral_px = ts.ref.from_reference(ts.neutral)
    k = recipe.eval_frames
    if tail:
        teacher = TeacherRenderer.create(ts.ref.crop(src.frames[ts.neutral_frame], min(side, 512)), ts.neutral,
                                         config=TeacherConfig(out_size=OUT_SIZE))
        t_frames = np.stack([teacher.render(lm) for lm in lm_eval])
        evaluated_on = (f"held-out frames {train_frames}..{n - 1} of {src.path.name} ({len(pick)} of {len(tail)} "
                        f"sampled), reference square {side}px at {OUT_SIZE}")
    else:
        frames_ref = None
        t_frames, lm_eval, names = teacher_renders(src, ts.neutral_frame, neutral_px, ts.ref, k, seed=12345,
                                                   exclude_names=tuple(a.exclude_motion))
        evaluated_on = (f"{len(lm_eval)} motion-library frames ({', '.join(names)}) retargeted onto the identity, "
                        f"student vs teacher renders (no real frames held out)")
    try:
        from ..identity import IdentityEmbedder

        embedder = IdentityEmbedder()
    except Exception as e:  # the gate is then absent, and says so in the log
        log(f"train: identity embedder unavailable ({e}); identity gate skipped")
        embedder = None
    gates = evaluate_gates(net, frames_ref, lm_eval, ts.source_rgb, ts.neutral, t_frames, extractor, embedder,
                           evaluated_on, progress=lambda i, total: em.progress("evaluate", i, total))
    report = gate_report(gates)
    log(report)
    (out / "gate_report.txt").write_text(report)
    (out / "gates.json").write_text(json.dumps(gates, indent=1) + "\n")
    gates["reportFile"] = "gate_report.txt"
    final = trainer.preview()
    _write_png(out / "preview.png", final)
    _write_preview_video(out / "preview.mp4", frames_ref, render_student(net, lm_eval), t_frames)
    gates["previewFile"] = "preview.mp4"

    inputs, outputs = tensor_specs()
    manifest = {
        "schemaVersion": 1, "kind": "avatar-student", "createdAt": now_iso(),
        "model": {"file": "student.onnx", "sha256": info.sha256, "opset": info.opset, "inputs": inputs,
                  "outputs": outputs, "outputSize": OUT_SIZE, "flopsPerFrame": int(info.flops),
                  "params": int(info.params), "parityMaxAbsDiff": float(info.parity_max_abs_diff),
                  **({"int8": int8} if int8 else {})},
        "identity": {"sourceKind": src.kind, "sourceSha256": src.sha256,
                     "imageSize": {"width": side, "height": side},
                     "neutralLandmarks": [round(float(x), 6) for x in ts.neutral.reshape(-1)]},
        "training": {"teacherVersion": TEACHER_VERSION, "steps": int(trainer.step),
                     "wallTimeS": round(time.perf_counter() - t_start, 1), "machine": machine(),
                     "recipe": {"preset": a.preset, **trainer.recipe.as_dict(), "planned_steps": int(planned_steps),
                                "time_budget_s": a.time_budget_s, "train_fraction": key["train_fraction"],
                                "train_frames": int(train_frames), "real_frames": int(ts.is_real.sum()),
                                "teacher_renders": int((~ts.is_real).sum()), "teacher_drivers": ts.teacher_drivers,
                                "matte": ("teacher GrabCut" if ts.matte == "grabcut" else "teacher with the learned selfie matte"),
                                "losses": "region-weighted L1 + SSIM (eyes/mouth x4), LSGAN PatchGAN late",
                                "degradations": "blur, noise, JPEG, down-up on the source (p_degrade)",
                                "optimisation_s": round(trainer.train_s, 1),
                                "held_out_ssim_curve": [list(c) for c in trainer.curve],
                                "reference_square": ts.ref.as_dict(), "neutral_frame": ts.neutral_frame,
                                "rotation": src.rotation}},
        "gates": gates,
    }
    path = write_manifest(out, manifest)
    shutil.rmtree(work, ignore_errors=True)
    return path, bool(gates["passed"])


def quantize_trained(float_path: Path, landmarks: np.ndarray, log) -> dict | None:
    """The int8 CPU variant (quantize.py), calibrated on the training set's landmarks (what the student
    will see), parity on others. Optional: a variant outside the parity bounds is logged and left out,
    and the float student serves."""
    from .quantize import CALIBRATION_FRAMES, INT8_FILE, PARITY_FRAMES, QuantizeError, quantize_student

    order = np.random.default_rng(2).permutation(len(landmarks))
    calib = landmarks[order[:CALIBRATION_FRAMES]]
    check = landmarks[order[CALIBRATION_FRAMES:CALIBRATION_FRAMES + PARITY_FRAMES]]
    if len(check) < 8:  # a small training set: check on all of it (calibration ranges only, no fitting)
        check = landmarks[order[:PARITY_FRAMES]]
    try:
        block = quantize_student(float_path, float_path.with_name(INT8_FILE), calib, check)
    except QuantizeError as e:
        log(f"train: no int8 variant: {e}")
        return None
    block["calibration"] = "the training set's landmarks (real frames and retargeted motion library)"
    p = block["parity"]
    log(f"train: int8 variant {block['file']}: parity max {p['maxAbsDiff']} / mean {p['meanAbsDiff']} levels, "
        f"PSNR {p['psnrDb']} dB; ms/frame {block['msPerFrame1Thread']}")
    return block


def main(argv: list[str] | None = None) -> int:
    from .protocol import Emitter
    from .source import SourceError

    a = parse_args(argv)
    em = Emitter()
    try:
        path, publishable = run(a, em)
    except SourceError as e:
        em.error(e.code, e.message)
        return 1
    except ResumeMismatch as e:
        em.error("RESUME_MISMATCH", str(e))
        return 1
    except Exception as e:  # a crash: the traceback on stderr, one error line on stdout
        traceback.print_exc()
        em.error("INTERNAL", f"Training failed: {type(e).__name__}: {e}"[:500])
        return 1
    em.done(str(a.out.resolve()), str(path), publishable)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    sys.exit(main())
