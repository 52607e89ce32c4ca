"""ONNX export of a baked student, the PyTorch-vs-onnxruntime parity check, and the manifest.

`export_onnx(net, path, parity_inputs)` -> `ExportInfo` (opset, sha256, FLOPs, params, parity max |diff|);
`write_manifest(out_dir, manifest)` writes `manifest.json` atomically (tmp + rename), last of all.
The manifest's layout is shared/src/student/studentManifest.ts (`studentManifestSchema`);
`validate_manifest` checks the same fields and types here so Python never writes one the server rejects.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..files import sha256_file
from .network import LANDMARKS, OUT_SIZE, StudentNet, count_flops, export_params

OPSET = 17
INPUT_NAME = "landmarks"
OUTPUT_NAME = "frame"
SCHEMA_VERSION = 1


@dataclass
class ExportInfo:
    path: Path
    sha256: str
    opset: int
    flops: int
    params: int
    parity_max_abs_diff: float
    parity_inputs: int


def export_onnx(net: StudentNet, path: Path, parity_inputs: np.ndarray) -> ExportInfo:
    """Exports `net` (baked) to `path` (written to a temp name, renamed when it passed parity).

    parity_inputs (N,478,3) float32: compared one by one, PyTorch vs onnxruntime (CPU, 1 thread);
    the max |difference| is in output units (uint8 levels). Raises RuntimeError if it exceeds 2."""
    import onnxruntime as ort

    net = net.eval()
    tmp = path.with_name(path.name + ".tmp")
    example = torch.as_tensor(parity_inputs[:1], dtype=torch.float32)
    with torch.no_grad():
        torch.onnx.export(net, (example,), str(tmp), input_names=[INPUT_NAME], output_names=[OUTPUT_NAME],
                          opset_version=OPSET, dynamo=False)
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    sess = ort.InferenceSession(str(tmp), so, providers=["CPUExecutionProvider"])
    diff = 0.0
    with torch.no_grad():
        for lm in parity_inputs:
            x = np.asarray(lm, np.float32)[None]
            ref = net(torch.as_tensor(x)).numpy().astype(np.int16)
            got = sess.run([OUTPUT_NAME], {INPUT_NAME: x})[0]
            if got.shape != (1, OUT_SIZE, OUT_SIZE, 3) or got.dtype != np.uint8:
                raise RuntimeError(f"onnx output is {got.shape} {got.dtype}, expected (1,{OUT_SIZE},{OUT_SIZE},3) uint8")
            diff = max(diff, float(np.abs(got.astype(np.int16) - ref).max()))
    if diff > 2:
        tmp.unlink(missing_ok=True)
        raise RuntimeError(f"PyTorch vs onnxruntime parity failed: max |diff| {diff} > 2")
    tmp.replace(path)
    return ExportInfo(path, sha256_file(path), OPSET, count_flops(net), export_params(net), diff, len(parity_inputs))


def machine() -> dict:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    return {"cpu": cpu, "cores": os.cpu_count() or 1, "gpu": gpu, "torch": torch.__version__}


def now_iso() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def tensor_specs() -> tuple[list[dict], list[dict]]:
    inputs = [{"name": INPUT_NAME, "dtype": "float32", "shape": [1, LANDMARKS, 3],
               "description": "MediaPipe FaceLandmarker landmarks normalised to the identity's reference image "
                              "(x, y in [0,1] of identity.imageSize; z in x's scale, unused)"}]
    outputs = [{"name": OUTPUT_NAME, "dtype": "uint8", "shape": [1, OUT_SIZE, OUT_SIZE, 3],
                "description": "RGB frame of the reference square, channels last"}]
    return inputs, outputs


_SHA = re.compile(r"^[0-9a-f]{64}$")


def validate_manifest(m: dict) -> None:
    """The fields and types of studentManifestSchema (raises ValueError on the first mismatch)."""

    def need(cond: bool, what: str) -> None:
        if not cond:
            raise ValueError(f"manifest: {what}")

    need(m.get("schemaVersion") == SCHEMA_VERSION, "schemaVersion")
    need(m.get("kind") == "avatar-student", "kind")
    need(isinstance(m.get("createdAt"), str) and "T" in m["createdAt"], "createdAt")
    md = m.get("model", {})
    need(isinstance(md.get("file"), str) and md["file"], "model.file")
    need(bool(_SHA.match(md.get("sha256", ""))), "model.sha256")
    need(isinstance(md.get("opset"), int) and md["opset"] >= 17, "model.opset")
    for key in ("inputs", "outputs"):
        need(isinstance(md.get(key), list) and md[key], f"model.{key}")
        for t in md[key]:
            need(t.get("dtype") in ("float32", "uint8", "int64") and t.get("name") and t.get("shape"), f"model.{key} entry")
    for key in ("outputSize", "flopsPerFrame", "params"):
        need(isinstance(md.get(key), int) and md[key] > 0, f"model.{key}")
    need(isinstance(md.get("parityMaxAbsDiff"), (int, float)) and md["parityMaxAbsDiff"] >= 0, "model.parityMaxAbsDiff")
    if "int8" in md:  # the optional CPU serving variant (quantize.py)
        q = md["int8"]
        need(isinstance(q, dict) and isinstance(q.get("file"), str) and q["file"] and "/" not in q["file"], "model.int8.file")
        need(bool(_SHA.match(q.get("sha256", ""))), "model.int8.sha256")
        par = q.get("parity", {})
        need(all(isinstance(par.get(f), (int, float)) and par[f] >= 0 for f in ("frames", "maxAbsDiff", "meanAbsDiff", "psnrDb")),
             "model.int8.parity")
    idn = m.get("identity", {})
    need(idn.get("sourceKind") in ("portrait", "clip"), "identity.sourceKind")
    need(bool(_SHA.match(idn.get("sourceSha256", ""))), "identity.sourceSha256")
    size = idn.get("imageSize", {})
    need(all(isinstance(size.get(k), int) and size[k] > 0 for k in ("width", "height")), "identity.imageSize")
    nl = idn.get("neutralLandmarks")
    need(isinstance(nl, list) and len(nl) == LANDMARKS * 3 and all(np.isfinite(nl)), "identity.neutralLandmarks")
    tr = m.get("training", {})
    need(isinstance(tr.get("teacherVersion"), str) and tr["teacherVersion"], "training.teacherVersion")
    need(isinstance(tr.get("steps"), int) and tr["steps"] >= 0, "training.steps")
    need(isinstance(tr.get("wallTimeS"), (int, float)) and tr["wallTimeS"] >= 0, "training.wallTimeS")
    mc = tr.get("machine", {})
    need(isinstance(mc.get("cpu"), str) and isinstance(mc.get("cores"), int) and mc["cores"] > 0
         and (mc.get("gpu") is None or isinstance(mc["gpu"], str)) and isinstance(mc.get("torch"), str), "training.machine")
    need(isinstance(tr.get("recipe", {}), dict), "training.recipe")
    g = m.get("gates", {})
    need(isinstance(g.get("passed"), bool) and isinstance(g.get("evaluatedOn"), str), "gates.passed/evaluatedOn")
    need(isinstance(g.get("metrics"), dict), "gates.metrics")
    for k, gm in g["metrics"].items():
        need(all(isinstance(gm.get(f), (int, float)) and np.isfinite(gm[f]) for f in ("value", "threshold"))
             and gm.get("op") in (">=", "<=") and isinstance(gm.get("passed"), bool), f"gates.metrics.{k}")
        if "reference" in gm:
            need(all(isinstance(v, (int, float)) and np.isfinite(v) for v in gm["reference"].values()),
                 f"gates.metrics.{k}.reference")
    need(g["passed"] == all(gm["passed"] for gm in g["metrics"].values()), "gates.passed must be the AND of the metrics")


def write_manifest(out_dir: Path, manifest: dict) -> Path:
    """Validates and writes `<out_dir>/manifest.json` atomically."""
    validate_manifest(manifest)
    path = out_dir / "manifest.json"
    tmp = out_dir / ".manifest.json.tmp"
    tmp.write_text(json.dumps(manifest, indent=1, allow_nan=False) + "\n")
    os.replace(tmp, path)
    return path
