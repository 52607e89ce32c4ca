"""Runs the training CLI in a subprocess and reads its protocol (what the harness and scripts use).

`run_training(source, out, ...)` -> {"manifest": dict, "publishable": bool, "wall_s": float, "events": int};
raises RuntimeError with the error line's code and message when training refused or crashed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

MODELS_DIR = Path(__file__).resolve().parents[2]
PROGRESS_KEYS = {"event", "stage", "step", "total", "overall", "loss", "eta_s"}


def run_training(source: Path, out: Path, *, train_fraction: float | None = None, preset: str = "default",
                 steps: int | None = None, threads: int = 1, resume: bool = False, nice: int = 10,
                 on_line: Callable[[str], None] | None = None) -> dict:
    cmd = [sys.executable, "-m", "avatar_ml.student.train", "--source", str(source), "--out", str(out),
           "--preset", preset, "--threads", str(threads)]
    if train_fraction is not None:
        cmd += ["--train-fraction", str(train_fraction)]
    if steps is not None:
        cmd += ["--steps", str(steps)]
    if resume:
        cmd.append("--resume")
    if nice:
        cmd = ["nice", "-n", str(nice)] + cmd
    env = dict(os.environ, PYTHONPATH=str(MODELS_DIR), OMP_NUM_THREADS=str(threads), TF_CPP_MIN_LOG_LEVEL="3")
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    last: dict | None = None
    events = 0
    last_shown = 0.0
    assert proc.stdout is not None
    for raw in proc.stdout:
        line = json.loads(raw)  # the protocol: every stdout line is one JSON event
        events += 1
        last = line
        if on_line and (line["event"] != "progress" or "preview" in line or time.perf_counter() - last_shown > 10):
            last_shown = time.perf_counter()
            on_line(raw.strip())
    err = proc.stderr.read() if proc.stderr else ""
    rc = proc.wait()
    wall = time.perf_counter() - t0
    if last is None or last["event"] != "done" or rc != 0:
        tail = "\n".join(err.strip().splitlines()[-15:])
        what = f"{last['code']}: {last['message']}" if last and last["event"] == "error" else f"exit {rc}"
        raise RuntimeError(f"student training failed ({what})\n{tail}")
    manifest = json.loads(Path(last["manifest"]).read_text())
    return {"manifest": manifest, "publishable": bool(last["publishable"]), "wall_s": wall, "events": events}
