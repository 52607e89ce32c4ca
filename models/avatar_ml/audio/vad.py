"""The server's speech gate, in Python, so the offline lip-sync figure scores what the server shows.

server/src/audio/SileroVad.ts + AudioMotionSource.ts: Silero VAD v5 (the ONNX inside the installed
@ricky0123/vad-web) on 512-sample frames, `SpeechGate` hysteresis (on at p >= 0.5, off after
250 ms below 0.35), and a mouth gate easing towards speaking/silent at each 25 fps tick with
attack 30 ms / release 120 ms. A mouth frame is shown once its look-ahead has arrived, so the gate
applied to the frame centred at t has heard the audio up to t + look-ahead.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from .clips import REPO_ROOT

VAD_FRAME = 512


def silero_path() -> Path:
    return REPO_ROOT / "node_modules" / "@ricky0123" / "vad-web" / "dist" / "silero_vad_v5.onnx"


def speech_probabilities(audio: np.ndarray) -> np.ndarray:
    """(K,) Silero v5 probability per 512-sample frame (frame k ends at sample 512 (k + 1))."""
    import onnxruntime as ort

    if not silero_path().exists():
        raise FileNotFoundError(f"Silero VAD not found at {silero_path()} (the server's copy, from npm's "
                                "@ricky0123/vad-web): install the node modules first")
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    sess = ort.InferenceSession(str(silero_path()), opts, providers=["CPUExecutionProvider"])
    state = np.zeros((2, 1, 128), np.float32)
    sr = np.array(16000, np.int64)
    out = []
    for k in range(len(audio) // VAD_FRAME):
        x = np.asarray(audio[k * VAD_FRAME:(k + 1) * VAD_FRAME], np.float32)[None]
        p, state = sess.run(["output", "stateN"], {"input": x, "state": state, "sr": sr})
        out.append(float(p.reshape(-1)[0]))
    return np.array(out)


def speaking(probs: np.ndarray, on: float = 0.5, off: float = 0.35, hangover_ms: float = 250) -> np.ndarray:
    """SpeechGate over the probabilities: (K,) bool state after each VAD frame."""
    state, below, out = False, 0.0, []
    frame_ms = VAD_FRAME / 16
    for p in probs:
        if p >= on:
            state, below = True, 0.0
        elif p < off and state:
            below += frame_ms
            if below >= hangover_ms:
                state = False
        out.append(state)
    return np.array(out, bool)


def mouth_gate(audio: np.ndarray, times_s: np.ndarray, lookahead_s: float, attack_ms: float = 30,
               release_ms: float = 120) -> np.ndarray:
    """(len(times),) gate in [0, 1] for mouth frames centred at `times_s` (ascending, ~25 fps)."""
    sp = speaking(speech_probabilities(audio))
    ends = (np.arange(len(sp)) + 1) * VAD_FRAME / 16000
    g, prev_t, out = 0.0, None, []
    for t in times_s:
        k = np.searchsorted(ends, t + lookahead_s, side="right") - 1
        s = bool(sp[k]) if k >= 0 else False
        dt = 40.0 if prev_t is None else (t - prev_t) * 1000
        prev_t = t
        tau = attack_ms if s else release_ms
        g += ((1.0 if s else 0.0) - g) * (1 - math.exp(-dt / tau))
        out.append(g)
    return np.array(out)
