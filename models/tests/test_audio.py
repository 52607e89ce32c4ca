"""Audio-to-mouth: framing, encoder interface, mouth space, visemes, TTS phone timings, augmentation,
and the shipped models' manifest."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from avatar_ml.audio import augment
from avatar_ml.audio.model import (HOP, WINDOW, LogMel, LogMelConvEncoder, MouthHead, frame_count, frame_time_s,
                                   lookahead_ms)
from avatar_ml.audio.mouth_space import (apply_mouth, from_canonical, mouth_region, opening, to_canonical,
                                         to_pixels)
from avatar_ml.landmarks.track_io import load_track

REPO = Path(__file__).resolve().parents[2]
LIB = REPO / "models" / "motion_library"


def test_framing_is_wav2vec2s():
    assert frame_count(16000) == 49  # wav2vec2-base gives 49 frames for 1 s
    assert frame_count(400) == 1 and frame_count(399) == 0
    assert frame_time_s(0) == pytest.approx(0.0125)
    assert lookahead_ms() <= 120.0


def test_logmel_fft_path_equals_onnx_conv_path():
    m = LogMel()
    x = torch.randn(2, 8000)
    m.train()
    a = m(x)
    m.eval()
    b = m(x)
    assert a.shape == b.shape == (2, 80, frame_count(8000))
    assert torch.allclose(a, b, atol=1e-3)


def test_encoder_onnx_has_the_wav2vec2_interface(tmp_path):
    import onnxruntime as ort

    from avatar_ml.audio.train import export_encoder

    enc = LogMelConvEncoder(dim=16).eval()
    path = tmp_path / "enc.onnx"
    export_encoder(enc, path)
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    assert [i.name for i in sess.get_inputs()] == ["input_values"]
    for n in (16000, 23456):
        y = sess.run(None, {"input_values": np.random.default_rng(0).standard_normal((1, n)).astype(np.float32)})[0]
        assert y.shape == (1, frame_count(n), 16)
        with torch.no_grad():
            ref = enc(torch.tensor(np.random.default_rng(0).standard_normal((1, n)).astype(np.float32))).numpy()
        assert np.allclose(y, ref, atol=1e-3)


def test_head_is_causal_beyond_its_lookahead():
    r = len(mouth_region()) * 3
    head = MouthHead(8, np.eye(4, r, dtype=np.float32), np.zeros(r, np.float32), np.eye(2, r, dtype=np.float32)).eval()
    f = torch.randn(1, 40, 8)
    ref = torch.zeros(1, r)
    base = head(f, ref)
    g = f.clone()
    g[:, 30:] += 5.0  # change the future from frame 30 on
    out = head(g, ref)
    assert torch.allclose(base[:, :28], out[:, :28], atol=1e-5)  # frames < 30 - 2 (head look-ahead) unchanged
    assert not torch.allclose(base[:, 28:30], out[:, 28:30])


def test_mouth_space_round_trip_and_apply_mouth():
    tr = load_track(LIB / "WDA_KatieHill_000.npz")
    px = to_pixels(tr.landmarks[:5], tr.width, tr.height)
    shape, sim = to_canonical(px)
    assert np.abs(from_canonical(shape, sim) - px).max() < 1e-6
    region = shape[0, mouth_region()]
    same = apply_mouth(tr.landmarks[:1], tr.width, tr.height, np.zeros((1,) + region.shape), region)
    assert np.abs(same - tr.landmarks[:1]).max() * tr.width < 1e-3
    # a mouth taken from another frame puts that frame's opening on frame 0's head
    op = opening(px)
    k = int(np.argmax(opening(to_pixels(tr.landmarks, tr.width, tr.height))))
    other, _ = to_canonical(to_pixels(tr.landmarks[k:k + 1], tr.width, tr.height))
    moved = apply_mouth(tr.landmarks[:1], tr.width, tr.height, (other[0, mouth_region()] - region)[None], region)
    assert opening(to_pixels(moved, tr.width, tr.height))[0] > op[0] + 0.05


def test_viseme_bank_and_coarticulation():
    from avatar_ml.audio.visemes import build_viseme_bank, coarticulate

    tracks = [load_track(LIB / f"{n}.npz") for n in ("WDA_KatieHill_000", "d10")]
    bank = build_viseme_bank(tracks)
    region = list(mouth_region())
    up, lo = region.index(13), region.index(14)

    def gap(delta):
        return delta[up, 1] - delta[lo, 1]  # canonical y up: upper minus lower lip

    assert gap(bank.shapes["open"]) > gap(bank.shapes["bilabial"]) + 0.1
    phones = [("_", 0.0, 0.1), ("p", 0.1, 0.18), ("A:", 0.18, 0.4), ("m", 0.4, 0.48), ("_", 0.48, 0.7)]
    t = np.arange(0, 0.7, 0.02)
    d = coarticulate(phones, "espeak-ng", bank, t)
    g = np.array([gap(x) for x in d])
    assert g[np.argmin(abs(t - 0.29))] > g[np.argmin(abs(t - 0.14))] + 0.05  # open on the vowel, closed on /p/


def test_espeak_phone_timings():
    from avatar_ml.audio.tts import Espeak

    s = Espeak().synth("Papa made a movie.", "en-us", 170, 50)
    assert len(s.audio) / s.sample_rate > 0.5
    starts = [a for _, a, _ in s.phones]
    names = [p for p, _, _ in s.phones if not p.startswith("_")]
    assert starts == sorted(starts)
    assert names[0] == "p" and "m" in names and "v" in names


def test_opus_round_trip_and_augmentation():
    rng = np.random.default_rng(0)
    t = np.arange(16000) / 16000
    x = (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
    y = augment.opus_round_trip(x, 24)
    assert y.shape == x.shape
    assert np.corrcoef(x[2000:-2000], y[2000:-2000])[0, 1] > 0.3 or np.abs(y).max() > 0.1
    z = augment.add_noise(x, rng, snr_db=10)
    snr = 10 * np.log10(np.mean(x**2) / np.mean((z - x) ** 2))
    assert snr == pytest.approx(10, abs=0.5)


def test_shipped_manifest_lists_leave_one_out_folds():
    path = REPO / "models" / "audio" / "manifest.json"
    if not path.exists():
        pytest.skip("models/audio not trained yet")
    m = json.loads(path.read_text())
    assert m["lookahead_ms"] <= 120 and m["window_samples"] == WINDOW and m["hop_samples"] == HOP
    default = [e for e in m["models"] if e.get("family", "default") == "default"]
    held = {e["held_out"] for e in default if e["held_out"]}
    assert held == {c["clip"].rsplit(".", 1)[0] for c in m["provenance"]["real_speech"]}
    for e in default:
        assert e["held_out"] not in e["trained_on_real"]
        assert (path.parent / e["encoder"]).exists() and (path.parent / e["head"]).exists()
