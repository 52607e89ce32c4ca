"""The harness's publish gates for a student (60/40 protocol): `gates.json` + `gate_report.txt`.

Same layout as the manifest's `gates` (shared/src/student/studentManifest.ts): per metric the
student's value, the bar, which side passes, and the reference methods' values on the same frames.
Bars (issue #8): SSIM >= the teacher's on the same held-out frames, AKD <= 3 px, mouth-opening
correlation >= 0.85, identity distance <= 0.45. `passed` is the AND of all of them: publishable.
"""

from __future__ import annotations

import json
from pathlib import Path

GATES = {  # metric: (op, fixed bar or None = the teacher's value)
    "ssim": (">=", None),
    "akd_px": ("<=", 3.0),
    "mouth_corr": (">=", 0.85),
    "identity_distance": ("<=", 0.45),
}
REFERENCES = ("teacher", "warp2d", "static")


def harness_gates(result: dict, model: str = "student") -> dict:
    methods = result["methods"]
    m = methods.get(model, {})
    fs = result.get("frame_set", {})
    metrics: dict = {}
    for key, (op, bar) in GATES.items():
        value = m.get(key)
        ref = {r: methods[r][key] for r in REFERENCES if r in methods and methods[r].get(key) is not None}
        threshold = ref.get("teacher") if bar is None else bar
        if threshold is None:
            continue
        passed = value is not None and (value >= threshold if op == ">=" else value <= threshold)
        metrics[key] = {"value": float(value) if value is not None else float("nan"), "threshold": float(threshold),
                        "op": op, "passed": bool(passed), "reference": ref}
    ev = fs.get("evaluated") or [0, 0]
    evaluated_on = (f"frames {ev[0]}..{ev[-1]} of {Path(result['clip']).name} ({fs.get('scored_count')} scored, "
                    f"{fs.get('excluded_count', 0)} excluded), head-following 256 crop")
    return {"passed": bool(metrics) and all(g["passed"] for g in metrics.values()), "evaluatedOn": evaluated_on,
            "metrics": metrics}


def gate_table(gates: dict) -> str:
    lines = [f"student gates: {'PASSED (publishable)' if gates['passed'] else 'FAILED (not publishable)'}",
             f"  on {gates['evaluatedOn']}",
             f"  {'metric':<18} {'student':>8} {'op':>3} {'bar':>8}  {'result':<6} " + " ".join(f"{r:>8}" for r in REFERENCES)]
    for k, g in gates["metrics"].items():
        refs = " ".join(f"{g['reference'].get(r, float('nan')):>8.4f}" for r in REFERENCES)
        lines.append(f"  {k:<18} {g['value']:>8.4f} {g['op']:>3} {g['threshold']:>8.4f}  "
                     f"{'pass' if g['passed'] else 'FAIL':<6} {refs}")
    return "\n".join(lines) + "\n"


def write_gate_report(out: Path, gates: dict) -> None:
    import sys

    clean = json.loads(json.dumps(gates).replace("NaN", "null"))
    (out / "gates.json").write_text(json.dumps(clean, indent=1) + "\n")
    table = gate_table(gates)
    (out / "gate_report.txt").write_text(table)
    print(table, file=sys.stderr, flush=True)
