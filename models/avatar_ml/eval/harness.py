"""The evaluation harness: self-reenactment (a clip drives its own first/source frame) and
cross-reenactment (`driver`: another clip's motion retargeted onto the source identity), the
model under test and the baselines measured in the same run, and degraded-source robustness.

See models/README.md ("Evaluation harness") for the metric definitions and the crop policy.
"""

from __future__ import annotations

import json
import math
import platform
import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from .crop import CROP_SIZE, CropBoxes, apply_crop, crop_boxes
from .degrade import DEGRADATIONS
from .metrics import akd_px, mouth_corr, psnr, ssim
from .progress import Progress, log
from .registry import BASELINES, ModelSpec, resolve_model
from .side_by_side import side_by_side_frames

METRICS_VERSION = 1
TARGETS = {"ssim": 0.80, "ssim_margin_over_warp2d": 0.03, "akd_px": 3.0, "identity_distance": 0.45,
           "mouth_corr": 0.85, "s_per_frame": 1.0}


@dataclass
class EvalOptions:
    model: str
    clip: Path
    out: Path
    driver: Path | None = None
    driver_neutral: str = "closed-mouth"  # cross mode: the driver's retarget neutral, "closed-mouth" or "first"
    source_frame: int = 0
    frames: int = 150
    out_size: int = 512
    crop: str = "follow"
    degraded: bool = True
    degraded_stride: int = 3
    identity_stride: int = 5
    video: bool = True
    task_path: Path | None = None
    # 60/40 protocol: train a student on this leading share of the clip, score every method on the rest
    train_fraction: float | None = None
    student_preset: str = "default"
    student_steps: int | None = None
    threads: int = 2


@dataclass
class Context:
    """Everything a method is judged against."""

    width: int
    height: int
    driving: np.ndarray  # (T,478,3) normalised, invalid frames held from the nearest valid one
    ref_landmarks: np.ndarray  # (T,478,3) reference landmarks for AKD / mouth (real or retargeted)
    valid: np.ndarray  # (T,) frames where the reference is valid
    boxes: CropBoxes
    fixed_boxes: CropBoxes
    real_crops: list[np.ndarray] | None  # self-reenactment only
    real_fixed_crops: list[np.ndarray] | None
    source_embedding: np.ndarray | None
    fps: float = 30.0  # of the reference track (the re-detection's temporal smoothing depends on it)


def _hold_invalid(lm: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Fills invalid frames with the nearest valid frame's landmarks (a renderer needs some motion)."""
    if valid.all():
        return lm
    idx = np.nonzero(valid)[0]
    nearest = idx[np.abs(np.arange(len(valid))[:, None] - idx[None]).argmin(axis=1)]
    return lm[nearest]


def _nanmean(x: list[float] | np.ndarray) -> float | None:
    a = np.asarray(x, np.float64)
    a = a[np.isfinite(a)]
    return float(a.mean()) if a.size else None


def _r(x: float | None, nd: int = 4) -> float | None:
    return None if x is None or not math.isfinite(x) else round(float(x), nd)


class Harness:
    def __init__(self, opts: EvalOptions) -> None:
        from ..landmarks.extractor import FaceLandmarkExtractor

        self.opts = opts
        self.extractor = FaceLandmarkExtractor(opts.task_path) if opts.task_path else FaceLandmarkExtractor()
        self.embedder, self.identity_error = self._load_embedder()

    @staticmethod
    def _load_embedder():
        try:
            from ..identity import IdentityEmbedder

            return IdentityEmbedder(), None
        except Exception as e:  # the metric is reported as null with this reason
            return None, f"identity embedder unavailable: {type(e).__name__}: {e}"

    # ---- building the context -------------------------------------------------------------
    def run(self) -> dict:
        from ..landmarks.video_io import probe, read_frames

        o = self.opts
        o.out.mkdir(parents=True, exist_ok=True)
        t_start = time.perf_counter()
        spec = resolve_model(o.model)
        info = probe(o.clip)
        log(f"eval: model={o.model} clip={o.clip} frames<={o.frames} out={o.out}")
        if o.train_fraction is not None:
            from ..student.source import TRAIN_CLIP_S

            o.frames = int(np.ceil(TRAIN_CLIP_S * info.fps))  # what the student's training reads
        clip_frames = read_frames(o.clip, max(o.frames, o.source_frame + 1))
        if clip_frames.shape[1] != clip_frames.shape[2]:
            raise ValueError(f"{o.clip}: frames must be square, got {clip_frames.shape[2]}x{clip_frames.shape[1]}")
        if not 0 <= o.source_frame < len(clip_frames):
            raise ValueError(f"--source-frame {o.source_frame} outside the clip's {len(clip_frames)} frames")
        log(f"eval: tracking landmarks on {len(clip_frames)} frames of {o.clip.name}")
        clip_track = self.extractor.track(clip_frames, fps=info.fps, source=str(o.clip))
        if not clip_track.valid[o.source_frame]:
            raise ValueError(f"no face in source frame {o.source_frame} of {o.clip}")
        source = clip_frames[o.source_frame]
        source_lm = clip_track.landmarks[o.source_frame]
        h, w = source.shape[:2]
        src_emb = self._embed([source], [source_lm])
        result: dict = {
            "metrics_version": METRICS_VERSION,
            "model": o.model,
            "model_description": spec.description,
            "clip": str(o.clip),
            "source_frame": o.source_frame,
            "frame_size": [w, h],
            "render_size": o.out_size,
            "crop": {"policy": o.crop, "size": CROP_SIZE, "side_px": None},
            "identity_metric": None if self.embedder else self.identity_error,
        }
        if o.driver is None:
            frames = clip_frames[: o.frames]
            track = clip_track.slice(0, len(frames))
            valid = track.valid.copy()
            driving = _hold_invalid(track.landmarks, valid)
            boxes = crop_boxes(track.landmarks, valid, source_lm, w, h, o.crop)
            fixed = crop_boxes(track.landmarks, valid, source_lm, w, h, "fixed")
            ctx = Context(w, h, driving, track.landmarks, valid, boxes, fixed,
                          [apply_crop(f, boxes, t) for t, f in enumerate(frames)],
                          [apply_crop(f, fixed, t) for t, f in enumerate(frames)], src_emb, info.fps)
            result["mode"] = "self"
            first_col = ("real", ctx.real_crops)
            result["methods"] = {"real": self._real_row(frames, track.landmarks, valid, src_emb)}
        else:
            from ..landmarks.retarget import driver_neutral, retarget

            dinfo = probe(o.driver)
            dframes = read_frames(o.driver, o.frames)
            log(f"eval: tracking landmarks on {len(dframes)} frames of driver {o.driver.name}")
            dtrack = self.extractor.track(dframes, fps=dinfo.fps, source=str(o.driver))
            if not dtrack.valid.any():
                raise ValueError(f"no face found in driver {o.driver}")
            neutral = driver_neutral(dtrack, o.driver_neutral)
            rt = retarget(dtrack, neutral, source_lm, (w, h))
            valid = rt.valid & np.all(np.isfinite(rt.landmarks), axis=(1, 2))
            driving = _hold_invalid(rt.landmarks, valid)
            boxes = crop_boxes(driving, valid, source_lm, w, h, o.crop)
            fixed = crop_boxes(driving, valid, source_lm, w, h, "fixed")
            ctx = Context(w, h, driving, driving, valid, boxes, fixed, None, None, src_emb, dinfo.fps)
            dh, dw = dframes.shape[1:3]
            dboxes = crop_boxes(dtrack.landmarks, dtrack.valid, dtrack.landmarks[neutral], dw, dh, o.crop)
            result["mode"] = "cross"
            result["driver"] = str(o.driver)
            result["driver_neutral_frame"] = neutral
            result["driver_neutral"] = o.driver_neutral
            first_col = ("driver", [apply_crop(f, dboxes, t) for t, f in enumerate(dframes)])
            result["methods"] = {"driver": self._real_row(dframes, dtrack.landmarks, dtrack.valid, src_emb, driver=True)}
        result["frames"] = int(len(ctx.driving))
        result["valid_frames"] = int(ctx.valid.sum())
        result["crop"]["side_px"] = round(float(ctx.boxes.side), 1)

        t_all = len(ctx.driving)
        start = 0
        if o.train_fraction is not None:
            if o.driver is not None:
                raise ValueError("--train-fraction is a self-reenactment protocol; it cannot be combined with --driver")
            start = max(1, int(round(o.train_fraction * t_all)))
            if start >= t_all:
                raise ValueError(f"--train-fraction {o.train_fraction} leaves no frames to score in {t_all}")
        idx = np.arange(start, t_all)
        result["frame_set"] = frame_set(idx, ctx.valid, start, o.train_fraction)
        if start and result["mode"] == "self":  # the identity floor over the same frames
            result["methods"]["real"] = self._real_row(frames[start:], track.landmarks[start:], valid[start:], src_emb)
        columns = [(first_col[0], first_col[1][start:])]
        # The 60/40 protocol adds the teacher; so does cross-reenactment of any other model, where (no real
        # frames) the teacher's render is the reference its agreement is measured against.
        with_teacher = o.train_fraction is not None or (result["mode"] == "cross" and spec.name != "teacher")
        refs = (("teacher",) if with_teacher else ()) + BASELINES
        names = [spec.name] + [b for b in refs if b != spec.name]
        method_crops: dict[str, list[np.ndarray]] = {}
        for name in names:
            mspec = spec if name == spec.name else resolve_model(name)
            if o.train_fraction is not None and name == spec.name:
                if o.model.startswith(("student:", "student-int8:")):  # already trained (e.g. from a portrait): scored on the same frames
                    train_info = self._trained_student_info(Path(o.model.split(":", 1)[1]))
                else:
                    mspec, train_info = self._train_student(spec, start, t_all)
            metrics, crops = self._evaluate(mspec, source, source_lm, ctx, idx)
            if o.train_fraction is not None and name == spec.name:
                metrics["train_s"] = train_info["train_s"]
                metrics["training"] = train_info
            result["methods"][name] = metrics
            columns.append((name, crops))
            method_crops[name] = crops
        if result["mode"] == "cross" and spec.name != "teacher":
            for name, crops in method_crops.items():
                if name != "teacher":
                    result["methods"][name]["agreement_with_teacher"] = agreement(
                        crops, method_crops["teacher"], ctx.valid[idx])
        if o.degraded and o.train_fraction is None:
            result["degraded_source"] = self._degraded(spec, source, ctx)
        elif o.degraded:
            result["degraded_source"] = {"skipped": "60/40 protocol: a degraded source would need its own student "
                                                    "training run per degradation; not run"}
        result["targets"] = self._targets(result, spec.name)
        if o.train_fraction is not None:
            from .gates import harness_gates, write_gate_report

            result["gates"] = harness_gates(result, spec.name)
            write_gate_report(o.out, result["gates"])
        if o.video:
            video = o.out / "side_by_side.mp4"
            log(f"eval: writing {video}")
            from ..landmarks.video_io import write_video

            write_video(video, side_by_side_frames(columns), fps=info.fps)
            result["video"] = video.name
        result["wall_s"] = round(time.perf_counter() - t_start, 1)
        result["host"] = {"python": platform.python_version(), "machine": platform.machine(),
                          "cpu_threads": cv2.getNumThreads()}
        (o.out / "metrics.json").write_text(json.dumps(result, indent=2, allow_nan=False) + "\n")
        log(f"eval: wrote {o.out / 'metrics.json'} in {result['wall_s']} s")
        return result

    # ---- metrics ------------------------------------------------------------------------------
    def _embed(self, images: list[np.ndarray], landmarks: list[np.ndarray]) -> np.ndarray | None:
        if self.embedder is None or not images:
            return None
        return self.embedder.embed(images, landmarks=landmarks)

    def _identity(self, frames: np.ndarray, lms: np.ndarray, valid: np.ndarray, src_emb) -> tuple[float | None, list]:
        if src_emb is None:
            return None, []
        idx = [t for t in range(0, len(frames), self.opts.identity_stride) if valid[t]]
        if not idx:
            return None, []
        emb = self._embed([frames[t] for t in idx], [lms[t] for t in idx])
        d = np.linalg.norm(emb.astype(np.float64) - src_emb[0].astype(np.float64), axis=1)
        return _nanmean(d), d.tolist()

    def _real_row(self, frames: np.ndarray, lms: np.ndarray, valid: np.ndarray, src_emb, driver: bool = False) -> dict:
        ident, _ = self._identity(frames, lms, valid, src_emb)
        note = ("the driver's own frames: how far the driver's identity is from the source" if driver
                else "the real frames themselves: the floor for identity_distance")
        return {"identity_distance": _r(ident), "note": note}

    def _evaluate(self, spec: ModelSpec, source: np.ndarray, source_lm: np.ndarray, ctx: Context,
                  idx: np.ndarray, label: str | None = None) -> tuple[dict, list[np.ndarray]]:
        label = label or spec.name
        t0 = time.perf_counter()
        avatar = spec.factory(source, source_lm, self.opts.out_size)
        onboard_s = time.perf_counter() - t0
        prog = Progress(f"{label} render", len(idx))
        gen = []
        render_s = 0.0
        for k in range(0, len(idx), 10):
            chunk = ctx.driving[idx[k : k + 10]]
            t1 = time.perf_counter()
            out = avatar.render(chunk)
            render_s += time.perf_counter() - t1
            if out.shape != (len(chunk), self.opts.out_size, self.opts.out_size, 3) or out.dtype != np.uint8:
                raise ValueError(f"{spec.name} rendered {out.shape} {out.dtype}, expected (B,S,S,3) uint8")
            for f in out:
                gen.append(f if f.shape[0] == ctx.height else
                           cv2.resize(f, (ctx.width, ctx.height), interpolation=cv2.INTER_AREA))
            prog.step(len(chunk))
        gen = np.stack(gen)
        crops = [apply_crop(f, ctx.boxes, t) for f, t in zip(gen, idx)]
        m: dict = {"s_per_frame": _r(render_s / len(idx)), "onboard_s": _r(onboard_s, 3)}
        # Every metric is computed over the same frame set: the evaluated frames whose reference is
        # valid (metrics.json `frame_set` lists the excluded ones and why). AKD and mouth correlation
        # additionally need the generated face re-detected: `akd_frames` says on how many of them.
        valid = ctx.valid[idx]
        if ctx.real_crops is not None:
            ss = [ssim(c, ctx.real_crops[t]) if v else np.nan for c, t, v in zip(crops, idx, valid)]
            ps = [psnr(c, ctx.real_crops[t]) if v else np.nan for c, t, v in zip(crops, idx, valid)]
            fixed = [apply_crop(f, ctx.fixed_boxes, t) for f, t in zip(gen, idx)]
            m["ssim"] = _r(_nanmean(ss))
            m["psnr"] = _r(_nanmean(ps), 3)
            m["ssim_fixed_crop"] = _r(_nanmean([ssim(c, ctx.real_fixed_crops[t]) if v else np.nan
                                                for c, t, v in zip(fixed, idx, valid)]))
            m["psnr_fixed_crop"] = _r(_nanmean([psnr(c, ctx.real_fixed_crops[t]) if v else np.nan
                                                for c, t, v in zip(fixed, idx, valid)]), 3)
            m["scored_frames"] = int(valid.sum())
        log(f"  [{label}] re-detecting landmarks on {len(gen)} generated frames")
        step = int(idx[1] - idx[0]) if len(idx) > 1 else 1
        gtrack = self.extractor.track(gen, fps=ctx.fps / step)
        both = gtrack.valid & valid
        m["face_detected_rate"] = _r(float(gtrack.valid.mean()))
        wh = np.array([ctx.width, ctx.height])
        scale = CROP_SIZE / ctx.boxes.side
        akd = [akd_px(gtrack.landmarks[i, :, :2] * wh * scale, ctx.ref_landmarks[t, :, :2] * wh * scale)
               if both[i] else np.nan for i, t in enumerate(idx)]
        m["akd_px"] = _r(_nanmean(akd), 3)
        m["mouth_corr"] = _r(mouth_corr(gtrack.landmarks[both], ctx.ref_landmarks[idx][both])) if both.sum() >= 3 else None
        m["akd_frames"] = int(both.sum())
        m["akd_excluded_frames"] = [int(t) for t in idx[valid & ~gtrack.valid]]  # generated face not found
        ident, _ = self._identity(gen, gtrack.landmarks, gtrack.valid & valid, ctx.source_embedding)
        m["identity_distance"] = _r(ident)
        if ctx.real_crops is not None:
            m["per_frame"] = {"ssim": [_r(x) for x in ss], "psnr": [_r(x, 2) for x in ps], "akd_px": [_r(x, 3) for x in akd]}
        else:
            m["per_frame"] = {"akd_px": [_r(x, 3) for x in akd]}
        log(f"  [{label}] " + ", ".join(f"{k}={v}" for k, v in m.items() if k != "per_frame"))
        return m, crops

    def _train_student(self, spec: ModelSpec, train_frames: int, total: int) -> tuple[ModelSpec, dict]:
        """60/40 protocol: trains a student on the clip's first `train_frames` frames (the training CLI,
        in a subprocess, exactly as onboarding runs it) and returns a spec that loads it."""
        from ..student.avatar import student_factory
        from ..student.run import run_training

        o = self.opts
        out = o.out / "student"
        log(f"eval: training a student on frames 0..{train_frames - 1} of {o.clip.name} -> {out}")
        res = run_training(o.clip, out, train_fraction=o.train_fraction, preset=o.student_preset,
                           steps=o.student_steps, threads=1, on_line=lambda line: log(f"  [student train] {line}"))
        manifest = res["manifest"]
        recipe = manifest["training"]["recipe"]
        if recipe.get("train_frames") != train_frames:
            raise ValueError(f"student trained on {recipe.get('train_frames')} frames, the harness split is {train_frames}")
        info = {"train_s": round(res["wall_s"], 1), "steps": manifest["training"]["steps"],
                "preset": recipe.get("preset"), "train_frames": train_frames, "scored_from_frame": train_frames,
                "clip_frames": total, "dir": str(out), "publishable_in_train": res["publishable"],
                "flops_per_frame": manifest["model"]["flopsPerFrame"], "params": manifest["model"]["params"]}
        return ModelSpec(spec.name, student_factory(out, threads=o.threads), spec.description), info

    @staticmethod
    def _trained_student_info(model_dir: Path) -> dict:
        from ..student.avatar import load_manifest

        m = load_manifest(model_dir)
        return {"train_s": m["training"]["wallTimeS"], "steps": m["training"]["steps"],
                "preset": m["training"]["recipe"].get("preset"), "source_kind": m["identity"]["sourceKind"],
                "dir": str(model_dir), "publishable_in_train": m["gates"]["passed"],
                "flops_per_frame": m["model"]["flopsPerFrame"], "params": m["model"]["params"],
                "note": "trained before this run (student:<dir>); train_s is its manifest's wallTimeS"}

    def _degraded(self, spec: ModelSpec, source: np.ndarray, ctx: Context) -> dict:
        out: dict = {"frames_stride": self.opts.degraded_stride}
        idx = np.arange(0, len(ctx.driving), self.opts.degraded_stride)
        for name, fn in DEGRADATIONS.items():
            bad = fn(source)
            face = self.extractor.detect(bad)
            if face is None:
                out[name] = {"error": "no face detected in the degraded source; onboarding impossible"}
                continue
            # The identity reference stays the clean source: does the render still look like them?
            m, _ = self._evaluate(spec, bad, face.landmarks, ctx, idx, label=f"{spec.name}/{name}")
            m.pop("per_frame", None)
            out[name] = m
        return out

    @staticmethod
    def _targets(result: dict, model: str) -> dict:
        m = result["methods"].get(model, {})
        w = result["methods"].get("warp2d", {})
        checks: dict = {}

        def check(key: str, value, ok) -> None:
            checks[key] = {"value": value, "target": TARGETS[key], "met": None if value is None else bool(ok)}

        if result["mode"] == "self":
            check("ssim", m.get("ssim"), (m.get("ssim") or 0) >= TARGETS["ssim"])
            margin = None if m.get("ssim") is None or w.get("ssim") is None else round(m["ssim"] - w["ssim"], 4)
            check("ssim_margin_over_warp2d", margin, margin is not None and margin >= TARGETS["ssim_margin_over_warp2d"])
            check("mouth_corr", m.get("mouth_corr"), (m.get("mouth_corr") or 0) >= TARGETS["mouth_corr"])
        akd = m.get("akd_px")
        check("akd_px", akd, akd is not None and akd <= TARGETS["akd_px"])
        ident = m.get("identity_distance")
        check("identity_distance", ident, ident is not None and ident <= TARGETS["identity_distance"])
        check("s_per_frame", m.get("s_per_frame"), (m.get("s_per_frame") or 1e9) <= TARGETS["s_per_frame"])
        return checks


def agreement(crops: list[np.ndarray], reference: list[np.ndarray], valid: np.ndarray) -> dict:
    """How closely one method's crops match another's (cross-reenactment has no real frames, so a
    student is compared with the teacher it was distilled from): mean SSIM and PSNR (dB) over the
    frames where `valid` (T,) is true; `crops` and `reference` are T 256x256x3 uint8 crops each.
    Identical crops give ssim 1.0 and psnr null (+inf is not JSON). Raises ValueError on a length mismatch."""
    if len(crops) != len(reference) or len(crops) != len(valid):
        raise ValueError(f"agreement: {len(crops)} crops vs {len(reference)} reference crops vs {len(valid)} flags")
    ss = [ssim(a, b) for a, b, v in zip(crops, reference, valid) if v]
    ps = [psnr(a, b) for a, b, v in zip(crops, reference, valid) if v]
    return {"ssim": _r(_nanmean(ss)), "psnr": _r(_nanmean(ps), 3), "frames": len(ss),
            "note": "agreement with the teacher's render on the same crops (not a ground truth)"}


def frame_set(idx: np.ndarray, valid: np.ndarray, start: int, train_fraction: float | None) -> dict:
    """The frames every metric of the run is computed over, and the excluded ones with the reason."""
    bad = [int(t) for t in idx if not valid[t]]
    fs = {"evaluated": [int(idx[0]), int(idx[-1])] if len(idx) else [], "evaluated_count": int(len(idx)),
          "scored_count": int(len(idx) - len(bad)), "excluded_count": len(bad),
          "excluded": ([{"frames": bad, "reason": "no face found in the real frame (no reference landmarks to "
                                                  "crop and compare against)"}] if bad else []),
          "note": "ssim, psnr, the fixed-crop scores and identity_distance use exactly the scored frames; "
                  "akd_px and mouth_corr use the scored frames where the generated face was re-detected "
                  "(per method: akd_frames, akd_excluded_frames)"}
    if train_fraction is not None:
        fs["train_frames"] = [0, start - 1]
        fs["protocol"] = f"train on the first {train_fraction:.0%} of frames, score the rest"
    return fs


def evaluate(opts: EvalOptions) -> dict:
    return Harness(opts).run()
