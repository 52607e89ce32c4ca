"""The training CLI's stdout protocol (shared/src/student/trainingProgress.ts, `trainingEventSchema`).

One JSON object per line, nothing else on stdout:
  progress: {"event":"progress","stage":..,"step":..,"total":..,"overall":0..1,"loss":float|null,"eta_s":float|null[,"preview":abs path]}
  error:    {"event":"error","code":<TRAINING_ERROR_CODES>,"message":..}
  done:     {"event":"done","out":..,"manifest":..,"publishable":bool}
`overall` grows monotonically over the stages below (weights = their share of the job).
"""

from __future__ import annotations

import json
import math
import sys
import time
from typing import TextIO

STAGES = ("prepare", "landmarks", "teacher", "train", "export", "evaluate")
STAGE_WEIGHTS = {"prepare": 0.02, "landmarks": 0.08, "teacher": 0.10, "train": 0.70, "export": 0.04, "evaluate": 0.06}
ERROR_CODES = ("UNREADABLE_INPUT", "UNSUPPORTED_INPUT", "NO_FACE", "MULTIPLE_FACES", "FACE_TOO_SMALL",
               "RESUME_MISMATCH", "INTERNAL")


def _finite(x: float | None, nd: int = 5) -> float | None:
    return None if x is None or not math.isfinite(float(x)) else round(float(x), nd)


class Emitter:
    """Writes protocol lines; keeps `overall` monotonic and throttles progress lines (<= 2/s per stage,
    always the first and last of a stage and any with a preview)."""

    def __init__(self, stream: TextIO | None = None, min_interval_s: float = 0.5) -> None:
        self.stream = stream or sys.stdout
        self.min_interval_s = min_interval_s
        self.overall = 0.0
        self._last_emit = 0.0
        self.t0 = time.perf_counter()

    def _write(self, obj: dict) -> None:
        self.stream.write(json.dumps(obj, separators=(",", ":"), allow_nan=False) + "\n")
        self.stream.flush()

    def overall_at(self, stage: str, frac: float) -> float:
        before = sum(STAGE_WEIGHTS[s] for s in STAGES[: STAGES.index(stage)])
        return before + STAGE_WEIGHTS[stage] * min(max(frac, 0.0), 1.0)

    def progress(self, stage: str, step: int, total: int, loss: float | None = None, eta_s: float | None = None,
                 preview: str | None = None) -> None:
        assert stage in STAGES, stage
        now = time.perf_counter()
        total = max(int(total), 0)
        step = min(max(int(step), 0), total) if total else 0
        ov = max(self.overall, self.overall_at(stage, step / total if total else 1.0))
        edge = step == 0 or step == total
        if not edge and preview is None and now - self._last_emit < self.min_interval_s:
            return
        self.overall = ov
        self._last_emit = now
        if eta_s is None and ov > 0.05:
            el = now - self.t0
            eta_s = el / ov * (1 - ov)
        line = {"event": "progress", "stage": stage, "step": step, "total": total, "overall": round(min(ov, 1.0), 4),
                "loss": _finite(loss), "eta_s": None if eta_s is None else max(0.0, round(float(eta_s), 1))}
        if preview is not None:
            line["preview"] = preview
        self._write(line)

    def error(self, code: str, message: str) -> None:
        assert code in ERROR_CODES, code
        self._write({"event": "error", "code": code, "message": message or code})

    def done(self, out: str, manifest: str, publishable: bool) -> None:
        self._write({"event": "done", "out": out, "manifest": manifest, "publishable": bool(publishable)})
