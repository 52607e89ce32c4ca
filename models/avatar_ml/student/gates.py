"""The gate check inside `train` (stage `evaluate`): may this student be published?

Clip sources with held-out frames (the tail after `--train-fraction`): the student and the teacher
are scored against the real frames on the same frames, in the reference square at 256x256:
SSIM (student must reach the teacher's minus `SSIM_TOLERANCE`), AKD of landmarks re-detected on the
student's frames vs the real ones (<= 3 px at 256), mouth-opening correlation (>= 0.85), identity
distance to the source (<= 0.45). Portraits (or clips without held-out frames): a motion-library
clip the student never trained on drives both; SSIM against the teacher's render (fidelity >= 0.70),
AKD and mouth correlation against the driving landmarks, identity distance.
The full harness (`npm run eval -- --model student ...`) is the thorough version of this check.
"""

from __future__ import annotations

import numpy as np
import torch

from ..eval.metrics import akd_px, mouth_corr, ssim
from .network import OUT_SIZE, StudentNet

SSIM_TOLERANCE = 0.01
TEACHER_FIDELITY_SSIM = 0.70
AKD_MAX_PX = 3.0
MOUTH_CORR_MIN = 0.85
IDENTITY_MAX = 0.45


def _gate(value: float, threshold: float, op: str, reference: dict | None = None) -> dict:
    ok = value >= threshold if op == ">=" else value <= threshold
    g = {"value": round(float(value), 4), "threshold": round(float(threshold), 4), "op": op, "passed": bool(ok)}
    if reference:
        g["reference"] = {k: round(float(v), 4) for k, v in reference.items() if v is not None and np.isfinite(v)}
    return g


@torch.no_grad()
def render_student(net: StudentNet, landmarks: np.ndarray, batch: int = 8) -> np.ndarray:
    out = [net(torch.as_tensor(landmarks[i : i + batch], dtype=torch.float32)).numpy()
           for i in range(0, len(landmarks), batch)]
    return np.concatenate(out)


def evaluate_gates(net: StudentNet, frames_ref: np.ndarray | None, landmarks: np.ndarray, source_rgb: np.ndarray,
                   neutral: np.ndarray, teacher_frames: np.ndarray, extractor, embedder, evaluated_on: str,
                   progress=None) -> dict:
    """frames_ref: (N,256,256,3) real frames (None: score against `teacher_frames`); landmarks (N,478,3)
    the driving (= real) landmarks in reference coordinates. Returns the manifest's `gates` object."""
    n = len(landmarks)
    student = render_student(net, landmarks)
    if progress:
        progress(1, 4)
    metrics: dict = {}
    if frames_ref is not None:
        s = float(np.mean([ssim(student[i], frames_ref[i]) for i in range(n)]))
        t = float(np.mean([ssim(teacher_frames[i], frames_ref[i]) for i in range(n)]))
        metrics["ssim"] = _gate(s, t - SSIM_TOLERANCE, ">=", {"teacher": t})
    else:
        s = float(np.mean([ssim(student[i], teacher_frames[i]) for i in range(n)]))
        metrics["ssim_to_teacher"] = _gate(s, TEACHER_FIDELITY_SSIM, ">=")
    if progress:
        progress(2, 4)
    det = [extractor.detect(f) for f in student]
    found = np.array([d is not None for d in det])
    if found.sum() >= 1:
        lm_s = np.stack([d.landmarks if d is not None else np.full((478, 3), np.nan, np.float32) for d in det])
        akd = float(np.mean([akd_px(lm_s[i, :, :2] * OUT_SIZE, landmarks[i, :, :2] * OUT_SIZE) for i in np.nonzero(found)[0]]))
        mc = mouth_corr(lm_s[found], landmarks[found]) if found.sum() >= 3 else None
    else:
        akd, mc = float("inf"), None
    metrics["akd_px"] = _gate(min(akd, 1e6), AKD_MAX_PX, "<=")
    metrics["face_detected_rate"] = _gate(float(found.mean()), 0.9, ">=")
    if mc is not None:
        metrics["mouth_corr"] = _gate(mc, MOUTH_CORR_MIN, ">=")
    if progress:
        progress(3, 4)
    if embedder is not None:
        src = embedder.embed([source_rgb], landmarks=[neutral])[0]
        idx = [i for i in range(0, n, max(1, n // 8)) if found[i]]
        if idx:
            emb = embedder.embed([student[i] for i in idx], landmarks=[lm_s[i] for i in idx])
            d = float(np.nanmean(np.linalg.norm(emb - src[None], axis=1)))
            if np.isfinite(d):
                metrics["identity_distance"] = _gate(d, IDENTITY_MAX, "<=")
    if progress:
        progress(4, 4)
    return {"passed": all(g["passed"] for g in metrics.values()), "evaluatedOn": evaluated_on, "metrics": metrics}
