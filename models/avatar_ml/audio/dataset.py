"""Training utterances for audio-to-mouth: real speech clips and synthetic speech.

An `Utterance` is 16 kHz audio with the absolute canonical mouth shape (mouth_space.mouth_region,
canonical cm) at every encoder frame time (model.frame_time_s), and a pool of reference shapes
of the same identity (the model is conditioned on one of them, drawn at random while training:
IP_LAP's landmark prior).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from math import gcd
from pathlib import Path

import numpy as np
from scipy.signal import resample_poly

from ..landmarks.track_io import LandmarkTrack, load_track
from .clips import CACHE, MOTION_LIBRARY, SpeechClip
from .model import SAMPLE_RATE, frame_count, frame_time_s
from .mouth_space import mouth_region, to_canonical, to_pixels
from .texts import random_text
from .tts import FESTIVAL_VOICES, Espeak, festival_available, festival_synth
from .visemes import VisemeBank, clip_mouth_frames, coarticulate


@dataclass
class Utterance:
    name: str
    audio: np.ndarray  # (N,) float32 16 kHz
    target: np.ndarray  # (T,R,3) float32 absolute canonical mouth shapes at frame times
    valid: np.ndarray  # (T,) bool
    references: np.ndarray  # (M,R,3) reference shapes of this identity (its rest mouth)
    kind: str  # 'real' | 'synthetic'


def track_region_shapes(track: LandmarkTrack) -> tuple[np.ndarray, np.ndarray]:
    """(T,R,3) canonical mouth-region shapes per video frame (NaN where no face), valid (T,)."""
    out = np.full((len(track), len(mouth_region()), 3), np.nan, np.float32)
    if track.valid.any():
        shape, _ = to_canonical(to_pixels(track.landmarks[track.valid], track.width, track.height))
        out[track.valid] = shape[:, mouth_region()]
    return out, track.valid.copy()


def targets_at_frames(track: LandmarkTrack, n_samples: int) -> tuple[np.ndarray, np.ndarray]:
    """Linear interpolation of the track's mouth shapes to the encoder frame times."""
    shapes, valid = track_region_shapes(track)
    t_video = np.arange(len(track)) / track.fps
    t = frame_time_s(np.arange(frame_count(n_samples)))
    idx = np.clip(np.searchsorted(t_video, t) - 1, 0, len(track) - 2)
    w = np.clip((t - t_video[idx]) / (t_video[idx + 1] - t_video[idx]), 0, 1)
    a, b = shapes[idx], shapes[idx + 1]
    out = (1 - w)[:, None, None] * a + w[:, None, None] * b
    ok = valid[idx] & valid[idx + 1] & (t <= t_video[-1] + 0.5 / track.fps)
    return np.nan_to_num(out).astype(np.float32), ok


def real_utterance(clip: SpeechClip) -> Utterance:
    """The reference is the identity's rest mouth (its most closed frames, `clip_mouth_frames`), as
    an onboarding portrait gives it: the model predicts motion from rest, not absolute shapes."""
    target, ok = targets_at_frames(clip.track, len(clip.audio))
    _, rest = clip_mouth_frames(clip.track)
    return Utterance(clip.name, clip.audio, target, ok, rest[None], "real")


def identity_pools(tracks: list[LandmarkTrack]) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """(source, frames' region shapes (M,R,3), rest shape (R,3)) per identity track."""
    out = []
    for tr in tracks:
        region, rest = clip_mouth_frames(tr)
        out.append((tr.source, region, rest))
    return out


def motion_library_tracks(exclude: set[str]) -> list[LandmarkTrack]:
    """Video tracks of the motion library (extra identities for synthetic speech)."""
    index = json.loads((MOTION_LIBRARY / "index.json").read_text())
    return [load_track(MOTION_LIBRARY / e["file"]) for e in index["clips"]
            if e["kind"] == "video" and Path(e["clip"]).stem not in exclude]


def _to_16k(audio: np.ndarray, sr: int) -> np.ndarray:
    if sr == SAMPLE_RATE:
        return audio.astype(np.float32)
    g = gcd(sr, SAMPLE_RATE)
    return resample_poly(audio, SAMPLE_RATE // g, sr // g).astype(np.float32)


def synthetic_speech(count: int, seed: int = 0, cache: Path = CACHE / "synth") -> list[dict]:
    """`count` synthetic utterances (espeak-ng voices/rates/pitches, festival voices when installed):
    dicts with audio (16 kHz), phones, engine, voice. Cached per (seed, index)."""
    cache.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    espeak = None
    fest = festival_available()
    voices = ["en-us", "en", "en-gb-scotland", "en-gb-x-rp", "en-029", "en-gb-x-gbclan", "en-gb-x-gbcwmd"]
    variants = ["", "+m1", "+m2", "+m3", "+m4", "+f1", "+f2", "+f3", "+f4", "+klatt", "+croak", "+whisper"]
    out = []
    for i in range(count):
        text = random_text(rng)
        use_fest = fest and rng.random() < 0.35
        voice = f"{voices[rng.integers(len(voices))]}{variants[rng.integers(len(variants))]}"
        rate, pitch = int(rng.integers(120, 240)), int(rng.integers(20, 90))
        fvoice, stretch = FESTIVAL_VOICES[rng.integers(len(FESTIVAL_VOICES))], float(rng.uniform(0.8, 1.3))
        path = cache / f"s{seed}-{i}-{'f' if use_fest else 'e'}.npz"
        if path.exists():
            z = np.load(path, allow_pickle=False)
            out.append({"audio": z["audio"], "phones": json.loads(str(z["phones"])), "engine": str(z["engine"]),
                        "voice": str(z["voice"]), "text": str(z["text"])})
            continue
        try:
            if use_fest:
                s = festival_synth(text, fvoice, stretch)
            else:
                espeak = espeak or Espeak()
                s = espeak.synth(text, voice, rate, pitch, int(rng.integers(20, 90)))
        except (RuntimeError, ValueError):
            espeak = espeak or Espeak()
            s = espeak.synth(text, "en-us", rate, pitch)
        audio = _to_16k(s.audio, s.sample_rate)
        item = {"audio": audio, "phones": s.phones, "engine": s.engine, "voice": s.voice, "text": text}
        np.savez(path, audio=audio, phones=json.dumps(s.phones), engine=s.engine, voice=s.voice, text=text)
        out.append(item)
    return out


def synthetic_utterances(items: list[dict], bank: VisemeBank, pools: list[tuple[str, np.ndarray, np.ndarray]],
                         seed: int = 0) -> list[Utterance]:
    rng = np.random.default_rng(seed + 1)
    out = []
    for k, it in enumerate(items):
        # 0.2-0.6 s of silence around the speech, as in a call
        pre, post = int(rng.uniform(0.1, 0.6) * SAMPLE_RATE), int(rng.uniform(0.1, 0.6) * SAMPLE_RATE)
        audio = np.concatenate([np.zeros(pre, np.float32), it["audio"], np.zeros(post, np.float32)])
        audio = audio / (np.max(np.abs(audio)) + 1e-9) * 0.5
        phones = [(p, a + pre / SAMPLE_RATE, b + pre / SAMPLE_RATE) for p, a, b in it["phones"]]
        t = frame_time_s(np.arange(frame_count(len(audio))))
        delta = coarticulate(phones, it["engine"], bank, t)
        src, frames, rest = pools[rng.integers(len(pools))]
        out.append(Utterance(f"synth{k}:{it['voice']}:{src}", audio.astype(np.float32), rest[None] + delta,
                             np.ones(len(t), bool), rest[None], "synthetic"))
    return out


def _resample_track(target: np.ndarray, valid: np.ndarray, t_src: np.ndarray, t_dst: np.ndarray
                    ) -> tuple[np.ndarray, np.ndarray]:
    flat = target.reshape(len(t_src), -1)
    out = np.stack([np.interp(t_dst, t_src, flat[:, k]) for k in range(flat.shape[1])], axis=1)
    ok = (np.interp(t_dst, t_src, valid.astype(float)) > 0.999) & (t_dst >= t_src[0]) & (t_dst <= t_src[-1])
    return out.reshape((len(t_dst),) + target.shape[1:]).astype(np.float32), ok


def shift_targets(u: Utterance, lag_s: float) -> Utterance:
    """Audio/video offset correction: target'(t) = target(t + lag_s) (a mouth that lags its audio
    by lag_s > 0 is brought back in sync); frames whose shifted time leaves the clip are invalid."""
    if lag_s == 0:
        return u
    t = frame_time_s(np.arange(len(u.target)))
    target, ok = _resample_track(u.target, u.valid, t, t + lag_s)
    return Utterance(u.name, u.audio, target, ok, u.references, u.kind)


def speed_perturb(u: Utterance, rate: float) -> Utterance:
    """Kaldi-style speed perturbation: the audio played `rate` times faster (tempo and pitch, by
    resampling), the mouth targets time-compressed with it (new frame time t = original t * rate)."""
    from fractions import Fraction

    fr = Fraction(rate).limit_denominator(20)
    audio = resample_poly(u.audio, fr.denominator, fr.numerator).astype(np.float32)
    t = frame_time_s(np.arange(len(u.target)))
    target, ok = _resample_track(u.target, u.valid, t, frame_time_s(np.arange(frame_count(len(audio)))) * rate)
    return Utterance(f"{u.name}@{rate:g}", audio, target, ok, u.references, u.kind)
