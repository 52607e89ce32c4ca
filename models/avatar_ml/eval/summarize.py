"""Markdown results tables from harness runs (the tables in models/README.md).

    PYTHONPATH=models models/.venv/bin/python -m avatar_ml.eval.summarize <dir>/*/metrics.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from .harness import TARGETS

METHODS = ("teacher", "warp2d", "static")
KEYS = ("ssim", "psnr", "akd_px", "mouth_corr", "identity_distance", "s_per_frame")


def _fmt(v, nd=3) -> str:
    return "–" if v is None else f"{v:.{nd}f}"


def _mean(vals) -> float | None:
    v = [x for x in vals if x is not None]
    return float(np.mean(v)) if v else None


def self_table(runs: list[dict]) -> str:
    lines = ["| clip | method | SSIM | PSNR dB | AKD px | mouth corr | identity dist | s/frame | SSIM fixed crop |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in runs:
        clip = Path(r["clip"]).stem
        for m in METHODS:
            row = r["methods"].get(m)
            if not row:
                continue
            lines.append(f"| {clip} | {m} | {_fmt(row.get('ssim'))} | {_fmt(row.get('psnr'), 2)} | {_fmt(row.get('akd_px'), 2)} | "
                         f"{_fmt(row.get('mouth_corr'))} | {_fmt(row.get('identity_distance'))} | {_fmt(row.get('s_per_frame'), 4)} | "
                         f"{_fmt(row.get('ssim_fixed_crop'))} |")
        real = r["methods"].get("real", {}).get("identity_distance")
        lines.append(f"| {clip} | *real frames* | | | | | {_fmt(real)} | | |")
    for m in METHODS:
        rows = [r["methods"].get(m, {}) for r in runs]
        lines.append(f"| **mean** | **{m}** | " + " | ".join(
            f"**{_fmt(_mean([x.get(k) for x in rows]), 2 if k in ('psnr', 'akd_px') else 4 if k == 's_per_frame' else 3)}**"
            for k in KEYS) + f" | **{_fmt(_mean([x.get('ssim_fixed_crop') for x in rows]))}** |")
    return "\n".join(lines)


def degraded_table(runs: list[dict]) -> str:
    lines = ["| clip | source | SSIM | PSNR dB | AKD px | mouth corr | identity dist |", "|---|---|---|---|---|---|---|"]
    acc: dict[str, list[dict]] = {}
    for r in runs:
        clip = Path(r["clip"]).stem
        rows = [("clean", r["methods"].get("teacher", {}))] + list((r.get("degraded_source") or {}).items())
        for name, row in rows:
            if name == "frames_stride":
                continue
            acc.setdefault(name, []).append(row)
            if "error" in row:
                lines.append(f"| {clip} | {name} | {row['error']} | | | | |")
                continue
            lines.append(f"| {clip} | {name} | {_fmt(row.get('ssim'))} | {_fmt(row.get('psnr'), 2)} | {_fmt(row.get('akd_px'), 2)} | "
                         f"{_fmt(row.get('mouth_corr'))} | {_fmt(row.get('identity_distance'))} |")
    for name, rows in acc.items():
        lines.append(f"| **mean** | **{name}** | " + " | ".join(
            f"**{_fmt(_mean([x.get(k) for x in rows]), 2 if k in ('psnr', 'akd_px') else 3)}**"
            for k in ("ssim", "psnr", "akd_px", "mouth_corr", "identity_distance")) + " |")
    return "\n".join(lines)


def targets_table(runs: list[dict]) -> str:
    t = [r["methods"].get("teacher", {}) for r in runs]
    w = [r["methods"].get("warp2d", {}) for r in runs]
    ssim_t, ssim_w = _mean([x.get("ssim") for x in t]), _mean([x.get("ssim") for x in w])
    rows = [
        ("SSIM (256 crop, mean)", ssim_t, f">= {TARGETS['ssim']}", ssim_t is not None and ssim_t >= TARGETS["ssim"]),
        ("SSIM margin over warp2d", None if ssim_t is None or ssim_w is None else ssim_t - ssim_w,
         f">= {TARGETS['ssim_margin_over_warp2d']}", ssim_t is not None and ssim_w is not None and ssim_t - ssim_w >= TARGETS["ssim_margin_over_warp2d"]),
    ]
    for key, label, op in (("akd_px", "AKD px", "<="), ("identity_distance", "identity distance", "<="),
                           ("mouth_corr", "mouth corr", ">="), ("s_per_frame", "s/frame at 512", "<=")):
        v = _mean([x.get(key) for x in t])
        ok = v is not None and (v <= TARGETS[key] if op == "<=" else v >= TARGETS[key])
        rows.append((label, v, f"{op} {TARGETS[key]}", ok))
    lines = ["| target | teacher | goal | met |", "|---|---|---|---|"]
    lines += [f"| {a} | {_fmt(v, 4)} | {g} | {'yes' if ok else '**no**'} |" for a, v, g, ok in rows]
    return "\n".join(lines)


def cross_table(runs: list[dict]) -> str:
    lines = ["| source clip | driver | method | AKD px (vs retargeted) | mouth corr | identity dist to source | s/frame |",
             "|---|---|---|---|---|---|---|"]
    for r in runs:
        for m in METHODS:
            row = r["methods"].get(m, {})
            lines.append(f"| {Path(r['clip']).stem} | {Path(r['driver']).stem} | {m} | {_fmt(row.get('akd_px'), 2)} | "
                         f"{_fmt(row.get('mouth_corr'))} | {_fmt(row.get('identity_distance'))} | {_fmt(row.get('s_per_frame'), 4)} |")
        lines.append(f"| {Path(r['clip']).stem} | {Path(r['driver']).stem} | *driver frames* | | | "
                     f"{_fmt(r['methods'].get('driver', {}).get('identity_distance'))} | |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m avatar_ml.eval.summarize")
    p.add_argument("metrics", nargs="+", type=Path)
    a = p.parse_args(argv)
    runs = [json.loads(m.read_text()) for m in a.metrics]
    self_runs = [r for r in runs if r["mode"] == "self"]
    cross = [r for r in runs if r["mode"] == "cross"]
    if self_runs:
        print("#### Self-reenactment\n\n" + self_table(self_runs) + "\n")
        print("#### Targets (self-reenactment, averaged over the clips)\n\n" + targets_table(self_runs) + "\n")
        print("#### Degraded sources (teacher)\n\n" + degraded_table(self_runs) + "\n")
    if cross:
        print("#### Cross-reenactment\n\n" + cross_table(cross) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
