"""Lip-sync scoring: predicted mouth motion against a clip's real landmarks, with baselines.

- `mouth_corr`: the harness's metric (eval.metrics.mouth_corr): Pearson correlation over time of the
  inner-lip gap / mouth width, predicted landmarks vs real.
- `energy_baseline_corr`: the same correlation for an audio-energy -> opening mapping (log RMS over
  a 40 ms window at each video frame, linear map fitted on the other clips; correlation does not
  depend on the fit).
- constant mouth: the reference mouth held still (correlation 0 by the harness's convention).
- `lmd_px`: mean distance of the 40 lip landmarks (inner + outer contour), predicted vs real, in
  pixels of the harness's 256x256 head-following crop (eval.crop).
"""

from __future__ import annotations

import numpy as np

from ..eval.crop import CROP_SIZE, crop_boxes
from ..eval.metrics import mouth_corr
from ..landmarks.track_io import LandmarkTrack
from ..teacher.topology import LIPS_INNER, LIPS_OUTER
from .infer import AudioToMouth, resample_to
from .mouth_space import apply_mouth, mouth_region, opening, to_canonical, to_pixels

LIPS = np.concatenate([LIPS_INNER, LIPS_OUTER])


def log_energy_at(audio: np.ndarray, times: np.ndarray, window_s: float = 0.04, sr: int = 16000) -> np.ndarray:
    half = int(window_s * sr / 2)
    out = np.empty(len(times))
    for i, t in enumerate(times):
        c = int(t * sr)
        seg = audio[max(0, c - half): c + half]
        out[i] = np.log(np.sqrt(np.mean(seg**2)) + 1e-4) if len(seg) else np.log(1e-4)
    return out


def lmd_px(pred: np.ndarray, real: np.ndarray, track: LandmarkTrack) -> float:
    boxes = crop_boxes(real, track.valid, real[np.argmax(track.valid)], track.width, track.height, "follow")
    d = []
    scale = np.array([track.width, track.height])
    for t in np.nonzero(track.valid)[0]:
        a = boxes.to_crop(pred[t, LIPS, :2] * scale, t)
        b = boxes.to_crop(real[t, LIPS, :2] * scale, t)
        d.append(np.linalg.norm(a - b, axis=1).mean())
    assert CROP_SIZE == 256
    return float(np.mean(d))


def reference_region(track: LandmarkTrack) -> np.ndarray:
    """The identity's reference mouth (canonical cm): its rest shape, the mean of the clip's 10%
    most closed frames (what a closed-mouth onboarding portrait gives; identity, not motion)."""
    from .visemes import clip_mouth_frames

    return clip_mouth_frames(track)[1]


def predicted_landmarks(model: AudioToMouth, audio: np.ndarray, track: LandmarkTrack) -> np.ndarray:
    """(T,478,3) the clip's real landmarks with the mouth region predicted from `audio`."""
    ref = reference_region(track)
    delta, times = model.predict(audio, ref)
    t_video = np.arange(len(track)) / track.fps
    d = resample_to(times, delta, t_video)
    lm = track.landmarks.copy()
    ok = track.valid
    lm[ok] = apply_mouth(track.landmarks[ok], track.width, track.height, d[ok], ref)
    return lm


def energy_baseline(audio: np.ndarray, track: LandmarkTrack, fit: tuple[float, float] | None = None) -> np.ndarray:
    """Predicted opening per video frame from log energy (affine `fit` (a, b); identity if None)."""
    e = log_energy_at(audio, np.arange(len(track)) / track.fps)
    a, b = fit or (1.0, 0.0)
    return a * e + b


def fit_energy(pairs: list[tuple[np.ndarray, LandmarkTrack]]) -> tuple[float, float]:
    xs, ys = [], []
    for audio, tr in pairs:
        xs.append(log_energy_at(audio, np.arange(len(tr)) / tr.fps)[tr.valid])
        ys.append(opening(tr.landmarks[tr.valid] * np.array([tr.width, tr.height, tr.width])))
    x, y = np.concatenate(xs), np.concatenate(ys)
    a, b = np.polyfit(x, y, 1)
    return float(a), float(b)


def score(model: AudioToMouth, audio: np.ndarray, track: LandmarkTrack,
          energy_fit: tuple[float, float] | None = None) -> tuple[dict, np.ndarray]:
    real = track.landmarks
    ok = track.valid
    pred = predicted_landmarks(model, audio, track)
    px = np.array([track.width, track.height, track.width])
    real_open = opening(real[ok] * px)
    e_open = energy_baseline(audio, track, energy_fit)[ok]
    e_corr = float(np.corrcoef(e_open, real_open)[0, 1]) if np.std(e_open) > 1e-9 else 0.0
    const = real.copy()
    ref = reference_region(track)
    const[ok] = apply_mouth(real[ok], track.width, track.height, np.zeros((int(ok.sum()),) + ref.shape), ref)
    res = {
        "mouth_corr": mouth_corr(pred[ok] * px, real[ok] * px),
        "energy_baseline_corr": e_corr,
        "constant_corr": 0.0,
        "lmd_px": lmd_px(pred, real, track),
        "constant_lmd_px": lmd_px(const, real, track),
        "model": model.name,
        "frames": int(ok.sum()),
    }
    return res, pred
