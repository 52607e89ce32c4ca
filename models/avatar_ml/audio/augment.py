"""Waveform augmentation for audio-to-mouth training: noise, reverb, gain, Opus round trip.

All functions take and return (N,) float32 at 16 kHz. `opus_round_trip` runs ffmpeg (libopus at
the given bitrate, 20 ms frames, 48 kHz like WebRTC, then back to 16 kHz) and caches by content.
"""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import numpy as np

from .model import SAMPLE_RATE


def add_noise(x: np.ndarray, rng: np.random.Generator, snr_db: float) -> np.ndarray:
    """White or pink noise at `snr_db` below the signal's power."""
    n = rng.standard_normal(len(x)).astype(np.float32)
    if rng.random() < 0.5:  # pink: 1/f via spectral shaping
        spec = np.fft.rfft(n)
        f = np.arange(len(spec), dtype=np.float32)
        spec /= np.sqrt(np.maximum(f, 1.0))
        n = np.fft.irfft(spec, len(x)).astype(np.float32)
    p_sig = float(np.mean(x**2)) + 1e-12
    p_noise = float(np.mean(n**2)) + 1e-12
    return (x + n * np.sqrt(p_sig / p_noise * 10 ** (-snr_db / 10))).astype(np.float32)


def reverb(x: np.ndarray, rng: np.random.Generator, rt60_s: float, wet: float) -> np.ndarray:
    """Convolution with a synthetic room impulse response (exponentially decaying noise, RT60)."""
    length = int(min(rt60_s, 0.8) * SAMPLE_RATE)
    t = np.arange(length) / SAMPLE_RATE
    rir = rng.standard_normal(length) * np.exp(-6.9 * t / rt60_s)
    rir[0] = 1.0
    rir /= np.sqrt(np.sum(rir**2))
    y = np.convolve(x, rir)[: len(x)]
    return ((1 - wet) * x + wet * y).astype(np.float32)


def gain(x: np.ndarray, db: float) -> np.ndarray:
    return (x * 10 ** (db / 20)).astype(np.float32)


def clip(x: np.ndarray, level: float) -> np.ndarray:
    """Hard clipping at `level` times the signal's peak."""
    peak = float(np.max(np.abs(x))) + 1e-9
    return np.clip(x, -level * peak, level * peak).astype(np.float32)


def opus_round_trip(x: np.ndarray, bitrate_kbps: int, cache_dir: Path | None = None) -> np.ndarray:
    """Encode with libopus (ffmpeg, 48 kHz mono, 20 ms frames) and decode back to 16 kHz."""
    key = hashlib.sha1(x.tobytes() + str(bitrate_kbps).encode()).hexdigest()[:20]
    if cache_dir is not None:
        path = cache_dir / f"{key}.f32"
        if path.exists():
            return np.fromfile(path, np.float32)
    enc = subprocess.run(
        ["ffmpeg", "-v", "error", "-nostdin", "-f", "f32le", "-ar", str(SAMPLE_RATE), "-ac", "1", "-i", "-",
         "-ar", "48000", "-c:a", "libopus", "-b:a", f"{bitrate_kbps}k", "-frame_duration", "20",
         "-application", "voip", "-f", "ogg", "-"], input=x.astype(np.float32).tobytes(), capture_output=True)
    if enc.returncode != 0:
        raise RuntimeError(f"ffmpeg opus encode failed: {enc.stderr.decode()[-300:]}")
    dec = subprocess.run(
        ["ffmpeg", "-v", "error", "-nostdin", "-f", "ogg", "-i", "-", "-ar", str(SAMPLE_RATE), "-ac", "1", "-f", "f32le",
         "-"], input=enc.stdout, capture_output=True)
    if dec.returncode != 0:
        raise RuntimeError(f"ffmpeg opus decode failed: {dec.stderr.decode()[-300:]}")
    y = np.frombuffer(dec.stdout, np.float32).copy()
    y = np.pad(y, (0, max(0, len(x) - len(y))))[: len(x)]
    if cache_dir is not None:
        cache_dir.mkdir(parents=True, exist_ok=True)
        y.tofile(cache_dir / f"{key}.f32")
    return y


def random_augment(x: np.ndarray, rng: np.random.Generator, opus_variants: list[np.ndarray] | None = None,
                   p: float = 0.8) -> np.ndarray:
    """One random chain: maybe an Opus round-tripped variant, reverb, noise, clipping, gain."""
    if rng.random() > p:
        return x
    if opus_variants and rng.random() < 0.4:
        x = opus_variants[rng.integers(len(opus_variants))]
    if rng.random() < 0.3:
        x = reverb(x, rng, rt60_s=float(rng.uniform(0.15, 0.6)), wet=float(rng.uniform(0.2, 0.7)))
    if rng.random() < 0.5:
        x = add_noise(x, rng, snr_db=float(rng.uniform(5, 35)))
    if rng.random() < 0.1:
        x = clip(x, float(rng.uniform(0.3, 0.7)))
    return gain(x, float(rng.uniform(-6, 6)))
