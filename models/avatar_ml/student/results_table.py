"""Markdown tables of a 60/40 results run: `python -m avatar_ml.student.results_table <run dir>`.

Reads `<run>/<clip>/metrics.json` (written by `npm run eval -- --model student --train-fraction 0.6`)
and prints per clip every method's scores on the held-out frames, the student's training time and
gate verdict, then the means, and the student-vs-teacher SSIM count.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

METHODS = ("student", "teacher", "warp2d", "static")
KEYS = ("ssim", "psnr", "akd_px", "mouth_corr", "identity_distance")


def _f(v, nd: int = 3) -> str:
    return "" if v is None else f"{v:.{nd}f}"


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("run", type=Path)
    a = ap.parse_args(argv)
    runs = sorted(p for p in a.run.glob("*/metrics.json"))
    print("| clip | held-out frames | method | SSIM | PSNR dB | AKD px | mouth corr | identity | train s | gates |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    means: dict[str, dict[str, list]] = {m: {k: [] for k in KEYS} for m in METHODS}
    wins = 0
    for p in runs:
        m = json.loads(p.read_text())
        fs = m["frame_set"]
        clip = Path(m["clip"]).stem
        for name in METHODS:
            row = m["methods"].get(name)
            if row is None:
                continue
            for k in KEYS:
                if row.get(k) is not None:
                    means[name][k].append(row[k])
            extra = ("", "")
            if name == "student":
                extra = (f"{row.get('train_s', 0):.0f}", "pass" if m.get("gates", {}).get("passed") else "FAIL")
            print(f"| {clip} | {fs['evaluated'][0]}-{fs['evaluated'][-1]} ({fs['scored_count']}) | {name} | "
                  f"{_f(row.get('ssim'))} | {_f(row.get('psnr'), 2)} | {_f(row.get('akd_px'), 2)} | "
                  f"{_f(row.get('mouth_corr'))} | {_f(row.get('identity_distance'))} | {extra[0]} | {extra[1]} |")
        s, t = m["methods"]["student"].get("ssim"), m["methods"]["teacher"].get("ssim")
        wins += int(s is not None and t is not None and s >= t)
    for name in METHODS:
        vals = [_f(float(np.mean(means[name][k])), 2 if k in ("psnr", "akd_px") else 3) if means[name][k] else ""
                for k in KEYS]
        print(f"| **mean ({len(runs)} clips)** | | **{name}** | " + " | ".join(vals) + " | | |")
    print(f"\nstudent SSIM >= teacher SSIM on {wins} of {len(runs)} clips")


if __name__ == "__main__":
    main()
