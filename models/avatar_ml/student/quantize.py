"""Post-training int8 quantisation of an exported student: the CPU serving variant.

    PYTHONPATH=models models/.venv/bin/python -m avatar_ml.student.quantize --model <dir> [--dry-run]

Why: on this CPU (AVX-512 VNNI) the student's 3x3 convolutions are ~45 % of a frame and already run
near fp32 peak; int8 convolutions (onnxruntime's QLinearConv) do the same work in ~¼ of the
instructions. Measured on the demo student, one thread, onnxruntime-node: 16.7 -> 12.6 ms per frame,
which is what a 2-core server needs to render four avatars at 25 fps (README "Avatar rendering").

What: onnxruntime's static quantiser (QDQ format, per-channel symmetric int8 weights, uint8
activations, MinMax ranges) on the convolutions of the decoder (`/down`, `/res*`, `/up`). Kept in
float: the motion net (`/motion/*`: its output is the warp field, and an int8 step there moves whole
edges by a pixel: max error 43 levels when quantised, 6 when not, for ~0.4 ms) and the output conv
(`/out/*`: the blend mask and generated colours; quantised it costs PSNR 47.7 -> 52 dB and was not
faster). Everything else (RBF prior flow, warps, composite) stays float: those ops are memory-bound.

Calibration: landmarks the student will really see — the training set's landmarks when called from
`train`, or the motion library retargeted onto the identity's neutral face for a student already
trained. Parity: the int8 and float graphs are run on other frames of the same kind; the variant is
written only if it stays within `MAX_MEAN_LEVELS` mean |difference| and `MIN_PSNR_DB` (else nothing is
written and the float model serves). Result: `<dir>/student.int8.onnx` and the manifest's `model.int8`
block (shared/src/student/studentManifest.ts: file, sha256, scheme, kept-float nodes, calibration
and parity figures).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from ..files import sha256_file
from .network import LANDMARKS

INT8_FILE = "student.int8.onnx"
SCHEME = "onnxruntime static QDQ: int8 per-channel weights, uint8 activations, MinMax calibration"
# Conv nodes kept in float, by the exporter's module-path names (see the module docstring).
KEEP_FLOAT_PREFIXES = ("/motion/", "/out/")
MAX_MEAN_LEVELS = 1.0
MIN_PSNR_DB = 40.0
CALIBRATION_FRAMES = 160
PARITY_FRAMES = 64


class QuantizeError(Exception):
    pass


def _session(path: Path):
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    return ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])


def parity(float_path: Path, int8_path: Path, inputs: np.ndarray) -> dict:
    """Frames of both graphs on `inputs` (N,478,3): max and mean |difference| (levels) and PSNR (dB)."""
    a, b = _session(float_path), _session(int8_path)
    worst, abs_sum, sq_sum, count = 0, 0.0, 0.0, 0
    for x in inputs:
        fa = a.run(None, {"landmarks": x[None]})[0].astype(np.int16)
        fb = b.run(None, {"landmarks": x[None]})[0].astype(np.int16)
        d = fa - fb
        worst = max(worst, int(np.abs(d).max()))
        abs_sum += float(np.abs(d).sum())
        sq_sum += float((d.astype(np.float64) ** 2).sum())
        count += d.size
    mse = sq_sum / count
    psnr = 99.0 if mse == 0 else 10 * np.log10(255.0**2 / mse)
    return {"frames": int(len(inputs)), "maxAbsDiff": worst, "meanAbsDiff": round(abs_sum / count, 4),
            "psnrDb": round(float(psnr), 2)}


def time_per_frame_ms(path: Path, inputs: np.ndarray, rounds: int = 3) -> float:
    """Best-of-`rounds` mean ms per frame on one thread (a rough figure; bench:student is the real one)."""
    s = _session(path)
    for x in inputs[:5]:
        s.run(None, {"landmarks": x[None]})
    best = float("inf")
    for _ in range(rounds):
        t = time.perf_counter()
        for x in inputs:
            s.run(None, {"landmarks": x[None]})
        best = min(best, (time.perf_counter() - t) / len(inputs) * 1000)
    return round(best, 2)


def quantize_student(float_path: Path, out_path: Path, calibration: np.ndarray, parity_inputs: np.ndarray) -> dict:
    """Writes the int8 variant of `float_path` to `out_path` (via a temp file, renamed only if parity holds)
    and returns the manifest's `model.int8` block. calibration / parity_inputs: (N,478,3) float32 landmarks
    as the server feeds them. Raises QuantizeError (nothing written) when parity is outside the bounds."""
    from onnxruntime.quantization import CalibrationDataReader, CalibrationMethod, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process
    import onnx

    calibration = np.asarray(calibration, np.float32).reshape(-1, LANDMARKS, 3)
    parity_inputs = np.asarray(parity_inputs, np.float32).reshape(-1, LANDMARKS, 3)
    if len(calibration) == 0 or len(parity_inputs) == 0:
        raise QuantizeError("quantisation needs calibration and parity landmarks")

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self.i = 0

        def get_next(self):
            if self.i >= len(calibration):
                return None
            self.i += 1
            return {"landmarks": calibration[self.i - 1:self.i]}

    tmp = out_path.with_name("." + out_path.name + ".tmp")
    with tempfile.TemporaryDirectory(prefix="student-quant-") as work:
        pre = Path(work) / "pre.onnx"
        quant_pre_process(str(float_path), str(pre), skip_symbolic_shape=True)
        convs = [n.name for n in onnx.load(str(pre)).graph.node if n.op_type == "Conv"]
        keep = [n for n in convs if n.startswith(KEEP_FLOAT_PREFIXES)]
        if len(keep) == len(convs):
            raise QuantizeError(f"{float_path.name}: no convolution left to quantise (convs: {', '.join(convs)})")
        quantize_static(str(pre), str(tmp), Reader(), quant_format=QuantFormat.QDQ, per_channel=True,
                        op_types_to_quantize=["Conv"], nodes_to_exclude=keep,
                        activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                        calibrate_method=CalibrationMethod.MinMax)
    try:
        check = parity(float_path, tmp, parity_inputs)
        if check["meanAbsDiff"] > MAX_MEAN_LEVELS or check["psnrDb"] < MIN_PSNR_DB:
            raise QuantizeError(f"int8 variant too far from the float student: mean |diff| {check['meanAbsDiff']} levels "
                                f"(bound {MAX_MEAN_LEVELS}), PSNR {check['psnrDb']} dB (bound {MIN_PSNR_DB})")
        speed = {"float32": time_per_frame_ms(float_path, parity_inputs[:32]),
                 "int8": time_per_frame_ms(tmp, parity_inputs[:32])}
        os.replace(tmp, out_path)
    finally:
        tmp.unlink(missing_ok=True)
    return {
        "file": out_path.name,
        "sha256": sha256_file(out_path),
        "scheme": SCHEME,
        "floatNodes": keep,
        "quantizedConvs": len(convs) - len(keep),
        "calibrationFrames": int(len(calibration)),
        "parity": check,
        "msPerFrame1Thread": speed,
    }


def motion_library_landmarks(manifest: dict, count: int, seed: int = 0) -> np.ndarray:
    """(count,478,3): motion-library frames retargeted onto the identity's neutral landmarks, in the
    identity's normalised reference coordinates (what the live server feeds the student), shuffled."""
    from ..landmarks.retarget import retarget
    from .data import motion_drivers

    size = manifest["identity"]["imageSize"]
    neutral = np.asarray(manifest["identity"]["neutralLandmarks"], np.float32).reshape(LANDMARKS, 3)
    frames = []
    for _, track in motion_drivers(exclude_sha256=""):
        valid = np.nonzero(track.valid)[0]
        if len(valid) == 0:
            continue
        rt = retarget(track, int(valid[0]), neutral, (size["width"], size["height"]))
        ok = rt.valid & np.all(np.isfinite(rt.landmarks), axis=(1, 2))
        frames.append(rt.landmarks[ok])
    if not frames:
        raise QuantizeError("the motion library has no valid frames to calibrate with")
    all_frames = np.concatenate(frames).astype(np.float32)
    pick = np.random.default_rng(seed).permutation(len(all_frames))[:count]
    return all_frames[pick]


def quantize_model_dir(model_dir: Path, dry_run: bool = False) -> dict:
    """Quantises `<model_dir>/<model.file>` with motion-library calibration; updates the manifest atomically."""
    from .export import validate_manifest, write_manifest

    path = model_dir / "manifest.json"
    if not path.is_file():
        raise QuantizeError(f"{model_dir}: no manifest.json (not a student directory)")
    try:
        manifest = json.loads(path.read_text())
        validate_manifest(manifest)
    except (ValueError, AttributeError, TypeError) as e:  # JSON errors are ValueErrors too
        raise QuantizeError(f"{path}: not a student manifest ({e})") from e
    float_path = model_dir / manifest["model"]["file"]
    if sha256_file(float_path) != manifest["model"]["sha256"]:
        raise QuantizeError(f"{float_path.name} does not match its manifest's sha256")
    frames = motion_library_landmarks(manifest, CALIBRATION_FRAMES + PARITY_FRAMES)
    calibration, parity_inputs = frames[:CALIBRATION_FRAMES], frames[CALIBRATION_FRAMES:]
    calibrated_on = "motion library retargeted onto the identity (avatar_ml.student.quantize --model)"
    if dry_run:  # quantised into a temporary folder that goes with its file
        with tempfile.TemporaryDirectory(prefix="student-int8-") as scratch:
            block = quantize_student(float_path, Path(scratch) / INT8_FILE, calibration, parity_inputs)
        return {"model": str(model_dir), "dry_run": True, "int8": {**block, "calibration": calibrated_on}}
    block = quantize_student(float_path, model_dir / INT8_FILE, calibration, parity_inputs)
    block["calibration"] = calibrated_on
    manifest["model"]["int8"] = block
    write_manifest(model_dir, manifest)
    return {"model": str(model_dir), "dry_run": False, "int8": block}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m avatar_ml.student.quantize", description=__doc__.split("\n\n")[0])
    p.add_argument("--model", required=True, type=Path, help="student directory (student.onnx + manifest.json)")
    p.add_argument("--dry-run", action="store_true", help="quantise and check parity; write nothing")
    a = p.parse_args(argv)
    try:
        print(json.dumps(quantize_model_dir(a.model.resolve(), a.dry_run)))
    except (QuantizeError, OSError, KeyError, ValueError) as e:
        print(json.dumps({"error": str(e)}))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
