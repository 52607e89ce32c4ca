"""Lip-sync scoring: predicted mouth motion against a clip's real landmarks, with baselines.

The scored mouth is what the server shows (server/src/audio/AudioMotionSource.ts): the head's
displacement, its opening mixed with the loudness envelope when the model has an `envelope_drive`
(envelope.py), gated by the Silero VAD speech gate (vad.py), resampled to the video frames.

- `mouth_corr`: the harness's metric (eval.metrics.mouth_corr): Pearson correlation over time of the
  inner-lip gap / mouth width, predicted landmarks vs real, at lag 0.
- `head_only_corr`: the same for the head's raw output (no envelope mix, no gate).
- `best_lag_corr` / `best_lag_ms`: the best correlation over lags within +-200 ms (real later than
  predicted is positive). The lag is chosen on the scored clip's own landmarks, so it is an
  optimistic, sync-corrected figure (it forgives the clip's own audio/video offset), never the headline.
- `envelope_corr`: the predicted opening against the speech envelope, as the browser e2e measures it
  (test/e2e/avatar-audio.test.ts: RMS of ~10 ms blocks averaged over +-60 ms, lag 0); the real
  mouth's own figure is `real_envelope_corr`.
- `energy_baseline_corr`: an audio-energy -> opening baseline: an RMS envelope smoothed over
  `smooth_s`, linear or log, shifted by `lag_s`, all three chosen on the other clips (fit_energy;
  never on the scored one). `energy_baseline_raw_corr`: the former baseline (log RMS over 40 ms at
  each video frame, no smoothing, no lag).
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
from . import envelope as env
from .infer import AudioToMouth, resample_to
from .model import lookahead_ms
from .mouth_space import LOWER_INNER, UPPER_INNER, apply_mouth, mouth_region, opening
from .vad import mouth_gate

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


def served_delta(model: AudioToMouth, audio: np.ndarray, ref: np.ndarray, t_video: np.ndarray,
                 served: bool = True) -> np.ndarray:
    """(len(t_video),R,3) displacement at the video frames: the head's output, with `served` the
    envelope mix (if the model has an envelope_drive) and the VAD speech gate, as the server does."""
    delta, times = model.predict(audio, ref)
    drive = model.envelope_drive
    if served and drive:
        region = list(mouth_region())
        up, lo = region.index(UPPER_INNER), region.index(LOWER_INNER)
        params = env.EnvelopeParams(**{k: drive[k] for k in env.EnvelopeParams.__dataclass_fields__})
        e = env.envelope(audio, params)[:len(delta)]
        direction = np.asarray(drive["open_direction"], np.float32).reshape(-1, 3)
        delta = env.mix(delta, e, direction, drive["full_gap_cm"], drive["weight"], up, lo)
    d = resample_to(times, delta, t_video)
    if served:
        d = d * mouth_gate(audio, t_video, lookahead_ms() / 1000)[:, None, None]
    return d


def predicted_landmarks(model: AudioToMouth, audio: np.ndarray, track: LandmarkTrack, served: bool = True) -> np.ndarray:
    """(T,478,3) the clip's real landmarks with the mouth region predicted from `audio`."""
    ref = reference_region(track)
    t_video = np.arange(len(track)) / track.fps
    d = served_delta(model, audio, ref, t_video, served)
    lm = track.landmarks.copy()
    ok = track.valid
    lm[ok] = apply_mouth(track.landmarks[ok], track.width, track.height, d[ok], ref)
    return lm


def speech_envelope_e2e(audio: np.ndarray, times: np.ndarray, sr: int = 16000) -> np.ndarray:
    """The e2e's envelope: RMS of 10 ms blocks averaged over +-60 ms around each time (s)."""
    n = len(audio) // (sr // 100)
    r = np.sqrt((np.asarray(audio[:n * (sr // 100)], np.float64).reshape(n, -1) ** 2).mean(axis=1))
    centres = np.arange(n) / 100 + 0.005
    return np.array([r[np.abs(centres - t) <= 0.06].mean() if np.any(np.abs(centres - t) <= 0.06) else 0.0
                     for t in times])


def rms_envelope(audio: np.ndarray, times: np.ndarray, smooth_s: float, lag_s: float, log: bool,
                 sr: int = 16000) -> np.ndarray:
    """The energy baseline's envelope at `times` (s): RMS of 10 ms blocks, moving average over
    `smooth_s`, log-compressed if `log`, read at t - lag_s (linear interpolation)."""
    n = len(audio) // (sr // 100)
    r = np.sqrt((np.asarray(audio[:n * (sr // 100)], np.float64).reshape(n, -1) ** 2).mean(axis=1))
    k = max(1, int(round(smooth_s * 100)))
    r = np.convolve(r, np.ones(k) / k, mode="same")
    if log:
        r = np.log(r + 1e-4)
    return np.interp(np.asarray(times) - lag_s, np.arange(n) / 100 + 0.005, r)


def _corr(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(a, b)[0, 1]) if np.std(a) > 1e-12 and np.std(b) > 1e-12 else 0.0


def lagged_corr(pred_open: np.ndarray, real_open: np.ndarray, max_lag: int = 5) -> tuple[float, int]:
    """Best Pearson correlation over integer frame lags within +-max_lag; real(t) vs pred(t - lag)."""
    best = (-2.0, 0)
    n = len(real_open)
    for lag in range(-max_lag, max_lag + 1):
        a = real_open[max(0, lag):n + min(0, lag)]
        b = pred_open[max(0, -lag):n - max(0, lag)]
        best = max(best, (_corr(a, b), lag))
    return best


def energy_baseline_raw(audio: np.ndarray, track: LandmarkTrack) -> np.ndarray:
    """The former baseline: log RMS over 40 ms at each video frame (no smoothing, no lag)."""
    return log_energy_at(audio, np.arange(len(track)) / track.fps)


ENERGY_GRID = {"smooth_s": (0.04, 0.1, 0.2), "log": (False, True), "lag_s": tuple(np.round(np.arange(-0.2, 0.201, 0.02), 2))}


def fit_energy(pairs: list[tuple[np.ndarray, LandmarkTrack]]) -> dict:
    """The energy baseline's settings (smoothing, log or linear, lag within +-200 ms) that maximise
    the mean opening correlation over `pairs` (the other clips: never the scored one)."""
    best: tuple[float, dict] = (-2.0, {})
    for smooth in ENERGY_GRID["smooth_s"]:
        for log in ENERGY_GRID["log"]:
            for lag in ENERGY_GRID["lag_s"]:
                cs = []
                for audio, tr in pairs:
                    t = np.arange(len(tr)) / tr.fps
                    e = rms_envelope(audio, t, smooth, float(lag), log)[tr.valid]
                    cs.append(_corr(e, opening(tr.landmarks[tr.valid] * np.array([tr.width, tr.height, tr.width]))))
                if np.mean(cs) > best[0]:
                    best = (float(np.mean(cs)), {"smooth_s": smooth, "log": log, "lag_s": float(lag)})
    return {**best[1], "fit_corr": best[0]}


def score(model: AudioToMouth, audio: np.ndarray, track: LandmarkTrack,
          energy_fit: dict | None = None) -> tuple[dict, np.ndarray]:
    """Scores the served mouth and the baselines on one clip (see the module doc); `energy_fit`
    from fit_energy on the other clips. -> (figures, predicted (T,478,3) landmarks)."""
    real = track.landmarks
    ok = track.valid
    t_video = np.arange(len(track)) / track.fps
    pred = predicted_landmarks(model, audio, track)
    head_only = predicted_landmarks(model, audio, track, served=False)
    px = np.array([track.width, track.height, track.width])
    real_open = opening(real[ok] * px)
    pred_open = opening(pred[ok] * px)
    fit = energy_fit or {"smooth_s": 0.1, "log": False, "lag_s": 0.0}
    e_open = rms_envelope(audio, t_video, fit["smooth_s"], fit["lag_s"], fit["log"])[ok]
    speech_env = speech_envelope_e2e(audio, t_video)[ok]
    const = real.copy()
    ref = reference_region(track)
    const[ok] = apply_mouth(real[ok], track.width, track.height, np.zeros((int(ok.sum()),) + ref.shape), ref)
    best_corr, best_lag = lagged_corr(pred_open, real_open, max_lag=int(round(0.2 * track.fps)))
    res = {
        "mouth_corr": mouth_corr(pred[ok] * px, real[ok] * px),
        "energy_baseline_corr": _corr(e_open, real_open),
        "energy_baseline_fit": {k: v for k, v in fit.items()},
        "energy_baseline_raw_corr": _corr(energy_baseline_raw(audio, track)[ok], real_open),
        "constant_corr": 0.0,
        "head_only_corr": mouth_corr(head_only[ok] * px, real[ok] * px),
        "best_lag_corr": best_corr,
        "best_lag_ms": 1000.0 * best_lag / track.fps,
        "envelope_corr": _corr(pred_open, speech_env),
        "head_only_envelope_corr": _corr(opening(head_only[ok] * px), speech_env),
        "real_envelope_corr": _corr(real_open, speech_env),
        "lmd_px": lmd_px(pred, real, track),
        "constant_lmd_px": lmd_px(const, real, track),
        "model": model.name,
        "envelope_drive": (None if not model.envelope_drive else
                           {k: v for k, v in model.envelope_drive.items() if k != "open_direction"}),
        "frames": int(ok.sum()),
    }
    return res, pred
