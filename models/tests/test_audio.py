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
        drive = e.get("envelope_drive")
        if drive:  # the envelope lead must lie inside the look-ahead the server waits for
            assert len(drive["open_direction"]) == 3 * len(m["mouth_region"]) and 0 <= drive["weight"] <= 1
            assert drive["lead_frames"] * HOP + WINDOW / 2 <= m["lookahead_ms"] / 1000 * 16000


def test_envelope_follows_loudness_and_rests_in_silence():
    from avatar_ml.audio import envelope as env

    rng = np.random.default_rng(0)
    sr = 16000
    # 0.5 s silence, then 4 Hz "syllables" (noise bursts 120 ms on / 130 ms off) for 2 s, then silence
    t = np.arange(int(3.0 * sr)) / sr
    on = (t >= 0.5) & (t < 2.5) & (((t - 0.5) % 0.25) < 0.12)
    audio = (rng.normal(0, 0.1, len(t)) * on).astype(np.float32)
    e = env.envelope(audio, env.EnvelopeParams(lead_frames=0))
    ft = frame_time_s(np.arange(len(e)))
    assert len(e) == frame_count(len(audio)) and np.all((e >= 0) & (e <= 1))
    assert e[ft < 0.45].max() == 0.0 and e[ft > 2.8].max() < 0.05  # closed before and after the speech
    burst = ((ft - 0.5) % 0.25 < 0.12) & (ft > 0.6) & (ft < 2.4)
    gap = ((ft - 0.5) % 0.25 > 0.17) & (ft > 0.6) & (ft < 2.4)
    assert e[burst].mean() > 0.6 and e[burst].mean() - e[gap].mean() > 0.25  # opens and closes at the syllable rate
    # the lead reads later frames: the same follower, `lead` frames earlier
    e2 = env.envelope(audio, env.EnvelopeParams(lead_frames=2))
    np.testing.assert_allclose(e2[:-10], env.envelope(audio[2 * HOP:], env.EnvelopeParams(lead_frames=0))[:len(e2) - 10],
                               atol=1e-6)


def test_envelope_mix_sets_the_inner_lip_gap_and_keeps_the_rest_of_the_shape():
    from avatar_ml.audio import envelope as env

    rng = np.random.default_rng(1)
    r = 20
    up, lo = 3, 7
    disp = rng.normal(0, 0.05, (200, r, 3))
    g = rng.uniform(0, 1, 200)
    true_dir = rng.normal(0, 0.3, (r, 3))
    true_dir[up, 1], true_dir[lo, 1] = 0.5, -0.5
    disp += g[:, None, None] * true_dir[None]
    d = env.open_direction(disp, up, lo)
    assert env.gap_of(d, up, lo) == pytest.approx(1.0)
    np.testing.assert_allclose(d, true_dir, atol=0.05)
    delta = disp[:10]
    e = np.linspace(0, 1, 10)
    for w in (0.0, 0.5, 1.0):
        out = env.mix(delta, e, d, 1.2, w, up, lo)
        np.testing.assert_allclose(env.gap_of(out, up, lo), (1 - w) * env.gap_of(delta, up, lo) + w * 1.2 * e, atol=1e-6)
    np.testing.assert_allclose(env.mix(delta, e, d, 1.2, 0.0, up, lo), delta, atol=1e-6)


def test_speed_perturbation_and_offset_shift_move_the_targets_with_the_audio():
    from avatar_ml.audio.dataset import Utterance, shift_targets, speed_perturb

    n = 16000 * 2
    t = frame_time_s(np.arange(frame_count(n)))
    target = np.sin(2 * np.pi * 1.5 * t)[:, None, None] * np.ones((1, 4, 3))
    u = Utterance("u", np.zeros(n, np.float32), target.astype(np.float32), np.ones(len(t), bool), target[:1], "real")
    fast = speed_perturb(u, 1.25)
    assert len(fast.audio) == pytest.approx(n / 1.25, abs=2)
    tf = frame_time_s(np.arange(len(fast.target)))
    ok = fast.valid
    np.testing.assert_allclose(fast.target[ok, 0, 0], np.sin(2 * np.pi * 1.5 * tf[ok] * 1.25), atol=0.01)
    late = shift_targets(u, 0.1)  # a mouth 100 ms late: its target at t is the real one at t + 0.1
    ok = late.valid
    assert not ok[-1] and ok[:-10].all()
    np.testing.assert_allclose(late.target[ok, 0, 0], np.sin(2 * np.pi * 1.5 * (t[ok] + 0.1)), atol=0.01)


def test_speech_gate_closes_in_silence_and_opens_in_speech():
    from avatar_ml.audio.clips import SPEECH_CLIPS, load_audio
    from avatar_ml.audio.vad import mouth_gate, silero_path

    if not silero_path().exists():
        pytest.skip("node_modules/@ricky0123/vad-web not installed")
    speech = load_audio(SPEECH_CLIPS[1])[:16000 * 3]
    audio = np.concatenate([np.zeros(16000, np.float32), speech, np.zeros(16000 * 2, np.float32)])
    times = np.arange(0, len(audio) / 16000, 0.04)
    g = mouth_gate(audio, times, 0.1125)
    assert g[times < 0.8].max() < 0.05
    assert g[(times > 1.5) & (times < 3.8)].mean() > 0.7
    assert g[times > 5.3].max() < 0.05
