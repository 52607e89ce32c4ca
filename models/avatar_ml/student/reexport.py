"""Re-export a published student with the current export graph, same weights, same pictures.

    PYTHONPATH=models models/.venv/bin/python -m avatar_ml.student.reexport --model <dir> [--dry-run]

Why: the export graph improves (the RGB warp's corner table; then uint8 corners, planar warps and
a matmul RBF prior: each ~20 % faster in onnxruntime) while students already trained keep the old
graph. Training checkpoints are deleted after a successful run, so the weights are read back from
`<dir>/student.onnx` itself: every named initializer that matches a `StudentNet` tensor, the RBF
width from the graph's one constant `Exp` input besides `bg_logit`, the neutral landmarks and baked
appearance as stored (the reference RGB from either form of its corner table). The rebuilt network
must reproduce the old ONNX on parity inputs (the identity's neutral landmarks jittered,
`PARITY_INPUTS` frames) within `MAX_LEVELS` levels, else nothing is written (exit 1). Then
`student.onnx` and the manifest's `model` block (sha256, FLOPs, params, parity) are replaced
atomically, and the int8 serving variant is made again from the new file (`quantize.py`); the
manifest keeps the training record and gates (the pictures are the same within the stated levels)
and records the re-export in `training.recipe.reexport`. Prints one JSON line with the outcome.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np
import torch

from ..files import sha256_file
from .export import export_onnx, now_iso, validate_manifest, write_manifest
from .network import LANDMARKS, StudentNet
from .quantize import QuantizeError, parity, quantize_model_dir

PARITY_INPUTS = 16
# What the current export graph changed (network.render_export), recorded in the manifest.
REEXPORT_WHY = ("current export graph (matmul RBF prior, planar warps, uint8 RGB corners with "
                "DequantizeLinear weights), same weights")
MAX_LEVELS = 1


class ReexportError(Exception):
    pass


def rebuild(model_dir: Path) -> tuple[StudentNet, dict]:
    """(the StudentNet holding the exported weights and baked appearance, the manifest)."""
    import onnx
    from onnx import numpy_helper

    manifest = json.loads((model_dir / "manifest.json").read_text())
    neutral = np.asarray(manifest["identity"]["neutralLandmarks"], np.float32).reshape(LANDMARKS, 3)
    graph = onnx.load(str(model_dir / manifest["model"]["file"])).graph
    init = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
    for node in graph.node:  # constants the exporter kept as Constant nodes (e.g. the corner table)
        if node.op_type == "Constant" and node.attribute and node.attribute[0].name == "value":
            init.setdefault(node.output[0], numpy_helper.to_array(node.attribute[0].t))
    net = StudentNet(neutral)
    state = net.state_dict()
    exported = [k for k in state if not k.startswith("encoder.")]
    if "baked_rgb" not in init:  # a graph with the RGB as a corner table: its first 3 columns are the RGB
        tables = [v for v in init.values() if v.ndim == 2 and v.shape[1] == 12 and v.shape[0] == state["baked_rgb"].shape[0]]
        if len(tables) == 1 and tables[0].dtype == np.uint8:  # corner rows as 0..255 (render_export)
            init["baked_rgb"] = tables[0][:, :3].astype(np.float32) / np.float32(255)
        elif len(tables) == 1:  # the float table of corner terms of earlier exports
            init["baked_rgb"] = np.ascontiguousarray(tables[0][:, :3])
    missing = []
    for key in exported:
        if key in init and tuple(init[key].shape) == tuple(state[key].shape):
            state[key] = torch.as_tensor(init[key].copy())
        elif key not in ("log_sigma", "src_flow_kp", "grid_motion", "grid_flow"):  # folded into constants; restored below
            missing.append(key)
    if missing:
        raise ReexportError(f"{model_dir}: the ONNX file lacks {', '.join(missing)}: not a student this tool can rebuild")
    exp_inputs = [n.input[0] for n in graph.node if n.op_type == "Exp" and n.input[0] in init
                  and init[n.input[0]].size == 1 and n.input[0] != "bg_logit"]  # flow_export also takes exp(bg_logit)
    if len(exp_inputs) != 1:
        raise ReexportError(f"{model_dir}: expected one constant Exp input (the RBF width), found {len(exp_inputs)}")
    state["log_sigma"] = torch.tensor(-float(init[exp_inputs[0]]) / 2)  # exported as -2 log(sigma)
    net.load_state_dict(state)
    net.eval()
    return net, manifest


def parity_inputs(manifest: dict, n: int = PARITY_INPUTS) -> np.ndarray:
    """(n,478,3): the identity's neutral landmarks, then jittered (0.4 % of the image) and shifted copies."""
    rng = np.random.default_rng(0)
    neutral = np.asarray(manifest["identity"]["neutralLandmarks"], np.float32).reshape(1, LANDMARKS, 3)
    jitter = rng.normal(0, 0.004, (n, LANDMARKS, 3)).astype(np.float32)
    shift = rng.uniform(-0.02, 0.02, (n, 1, 3)).astype(np.float32)
    jitter[0] = 0
    shift[0] = 0
    return neutral + jitter + shift


def reexport(model_dir: Path, dry_run: bool = False) -> dict:
    net, manifest = rebuild(model_dir)
    old_path = model_dir / manifest["model"]["file"]
    inputs = parity_inputs(manifest)
    tmp = model_dir / ".student.reexport.onnx"
    try:
        info = export_onnx(net, tmp, inputs)
        diff = parity(old_path, tmp, inputs)["maxAbsDiff"]
        if diff > MAX_LEVELS:
            raise ReexportError(f"the re-exported graph differs from {old_path.name} by {diff} levels (> {MAX_LEVELS})")
        result = {"model": str(model_dir), "previous_sha256": manifest["model"]["sha256"], "sha256": info.sha256,
                  "max_levels_vs_previous": diff, "parity_max_abs_diff": info.parity_max_abs_diff,
                  "flops": info.flops, "params": info.params, "dry_run": dry_run}
        if dry_run:
            return result
        model = manifest["model"]
        recipe = manifest["training"].setdefault("recipe", {})
        recipe["reexport"] = {"at": now_iso(), "previous_sha256": model["sha256"], "max_levels_vs_previous": diff,
                              "why": REEXPORT_WHY}
        model.update({"sha256": info.sha256, "flopsPerFrame": int(info.flops), "params": int(info.params),
                      "parityMaxAbsDiff": float(info.parity_max_abs_diff), "opset": info.opset})
        stale_int8 = model.pop("int8", None)  # quantised from the old file: made again below
        validate_manifest(manifest)
        os.replace(tmp, old_path)
        write_manifest(model_dir, manifest)
        assert sha256_file(old_path) == info.sha256
        if stale_int8:
            (model_dir / stale_int8["file"]).unlink(missing_ok=True)
        try:
            result["int8"] = quantize_model_dir(model_dir)["int8"]
        except QuantizeError as e:  # optional: the float student serves
            result["int8_error"] = str(e)
        return result
    finally:
        tmp.unlink(missing_ok=True)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m avatar_ml.student.reexport", description=__doc__.split("\n\n")[0])
    p.add_argument("--model", required=True, type=Path, help="student directory (student.onnx + manifest.json)")
    p.add_argument("--dry-run", action="store_true", help="check only; write nothing")
    a = p.parse_args(argv)
    torch.set_num_threads(1)
    try:
        print(json.dumps(reexport(a.model.resolve(), a.dry_run)))
    except (ReexportError, OSError, KeyError, ValueError) as e:
        print(json.dumps({"error": str(e)}))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
