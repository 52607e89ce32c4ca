"""Trains the audio encoder + audio-to-mouth head (leave-one-clip-out folds and the all-clips
model), exports ONNX and writes models/audio/manifest.json.

    PYTHONPATH=models nice -n 10 models/.venv/bin/python -m avatar_ml.audio.train [--steps 1500] [--synthetic 240]

Every fold holds one real speech clip out (its audio and its landmarks are never seen: not in
training, not in the PCA basis, not in the viseme bank), trains on the other clips' real speech
plus synthetic speech, and is scored on the held-out clip (`evaluate.py`). The `all` model trains
on every clip and serves clips that are not in the list.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

from . import augment
from . import envelope as env
from .clips import CACHE, REPO_ROOT, SPEECH_CLIPS, load_clip
from .dataset import (Utterance, identity_pools, motion_library_tracks, real_utterance, shift_targets,
                      speed_perturb, synthetic_speech, synthetic_utterances)
from .model import (HOP, WINDOW, LogMel, LogMelConvEncoder, MouthHead, count_parameters, frame_count, lookahead_ms,
                    normalise_waveform)
from .mouth_space import LOWER_INNER, UPPER_INNER, mouth_region
from .visemes import build_viseme_bank

OUT_DIR = REPO_ROOT / "models" / "audio"
CROP_FRAMES = 100


def pca(x: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """x (M,F) -> (mean (F,), components (k,F)) (unit-norm rows)."""
    mean = x.mean(axis=0)
    _, s, vt = np.linalg.svd(x - mean, full_matrices=False)
    return mean.astype(np.float32), vt[:k].astype(np.float32)


class Sampler:
    """Random training crops. Each utterance is augmented into `variants` fixed versions (clean, Opus
    round trips, noise/reverb/clipping chains), normalised (wav2vec2's zero-mean unit variance) and
    turned into log-mels once; a crop is a window of frames of one version, with a random gain
    (a constant shift of the log-mel) and a random reference of the same identity."""

    def __init__(self, utts: list[Utterance], real_share: float, seed: int, opus: dict[str, list[np.ndarray]],
                 variants: int = 6, featurize=None):
        """`featurize`: normalised waveform (N,) -> (C,T) input of the trained part; default the
        log-mel (the whole encoder trains); an external encoder's features train the head only."""
        self.rng = np.random.default_rng(seed)
        self.real_share = real_share if any(u.kind == "synthetic" for u in utts) else 1.0
        logmel = LogMel().eval()
        self.logmel_input = featurize is None
        if featurize is None:
            def featurize(w: np.ndarray) -> np.ndarray:
                return logmel(torch.tensor(w)[None])[0].numpy()
        self.items: dict[str, list] = {"real": [], "synthetic": []}
        for u in utts:
            versions = [u.audio] + opus.get(u.name, [])
            n_aug = variants if u.kind == "real" else 2
            for _ in range(n_aug):
                base = versions[self.rng.integers(len(versions))]
                versions.append(augment.random_augment(base, self.rng, None, p=1.0))
            with torch.no_grad():
                mels = [featurize(normalise_waveform(v)) for v in versions]
            t = min(len(u.target), min(m.shape[1] for m in mels))
            self.items[u.kind].append((mels, u.target[:t], u.valid[:t], u.references))

    def sample(self, batch: int, frames: int = CROP_FRAMES):
        feats, tgts, masks, refs = [], [], [], []
        for _ in range(batch):
            pool = self.items["real"] if self.rng.random() < self.real_share else self.items["synthetic"]
            mels, target, valid, references = pool[self.rng.integers(len(pool))]
            mel = mels[self.rng.integers(len(mels))]
            t_total = len(target)
            start = int(self.rng.integers(0, max(1, t_total - frames)))
            m = mel[:, start:start + frames]
            if self.logmel_input:  # a gain is a constant shift of a log-mel
                m = m + 2 * np.log(10 ** (self.rng.uniform(-4, 4) / 20))
            tgt = target[start:start + frames]
            msk = valid[start:start + frames]
            pad = frames - len(tgt)
            if pad:
                m = np.pad(m, ((0, 0), (0, pad)), mode="edge")
                tgt = np.concatenate([tgt, np.repeat(tgt[-1:], pad, axis=0)])
                msk = np.concatenate([msk, np.zeros(pad, bool)])
            ref = references[self.rng.integers(len(references))]
            feats.append(m)
            tgts.append((tgt - ref[None]).reshape(frames, -1))
            masks.append(msk)
            refs.append(ref.reshape(-1))
        return (torch.tensor(np.stack(feats), dtype=torch.float32), torch.tensor(np.stack(tgts)),
                torch.tensor(np.stack(masks)), torch.tensor(np.stack(refs)))


def point_weights() -> torch.Tensor:
    """Per-coordinate loss weight: lips x3 (they carry the lip-sync), the rest of the region x1."""
    from ..teacher.topology import LIPS_INNER, LIPS_OUTER

    region = mouth_region()
    lips = np.isin(region, np.concatenate([LIPS_INNER, LIPS_OUTER]))
    w = np.where(lips, 3.0, 1.0)
    return torch.tensor(np.repeat(w, 3), dtype=torch.float32)


def gap_index() -> tuple[int, int]:
    region = list(mouth_region())
    return region.index(UPPER_INNER), region.index(LOWER_INNER)


def train_fold(utts: list[Utterance], basis_frames: np.ndarray, ref_frames: np.ndarray, steps: int, seed: int,
               opus: dict[str, list[np.ndarray]], log, real_share: float = 0.5, external=None,
               corr_weight: float = 0.0) -> tuple[LogMelConvEncoder | None, MouthHead, dict]:
    """Trains encoder + head (default) or, with `external` = (featurize, feature_dim), the head
    alone on a fixed encoder's features (a wav2vec2/HuBERT export). `corr_weight` adds
    corr_weight * (1 - Pearson correlation over each crop) of the predicted and real inner-lip gap
    (the opening metric is a correlation: this rewards moving at the right moments over hedging
    towards the mean)."""
    torch.manual_seed(seed)
    r3 = basis_frames.shape[1]
    _, basis = pca(basis_frames, 16)
    ref_mean, ref_comp = pca(ref_frames, min(6, len(ref_frames) - 1))
    enc = LogMelConvEncoder(dim=64) if external is None else None
    head = MouthHead(enc.dim if enc else external[1], basis, ref_mean, ref_comp)
    train_refs = np.concatenate([u.references.reshape(len(u.references), -1) for u in utts])
    head.set_code_range(train_refs)
    head.code_dropout = 0.3
    t_prep = time.perf_counter()
    params = (list(enc.parameters()) if enc else []) + list(head.parameters())
    opt = torch.optim.AdamW(params, lr=2e-3, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=2e-3, total_steps=steps, pct_start=0.1)
    sampler = Sampler(utts, real_share=real_share, seed=seed, opus=opus,
                      featurize=None if external is None else external[0])
    log(f"  cached log-mels ({time.perf_counter() - t_prep:.0f} s)")
    w = point_weights()
    up, lo = gap_index()
    t0 = time.perf_counter()
    losses = []
    for step in range(steps):
        wav, tgt, msk, ref = sampler.sample(16)
        pred = head(enc.from_logmel(wav) if enc else wav.transpose(1, 2), ref)
        m = msk.float()[..., None]
        err = (pred - tgt) ** 2 * w
        loss_pos = (err * m).sum() / (m.sum() * r3 + 1e-6)
        vel = ((pred[:, 1:] - pred[:, :-1]) - (tgt[:, 1:] - tgt[:, :-1])) ** 2 * w
        mv = (msk[:, 1:] & msk[:, :-1]).float()[..., None]
        loss_vel = (vel * mv).sum() / (mv.sum() * r3 + 1e-6)
        # the inner-lip gap (canonical y of 13 minus 14) drives the opening metric: its own term
        gp = pred[..., up * 3 + 1] - pred[..., lo * 3 + 1]
        gt = tgt[..., up * 3 + 1] - tgt[..., lo * 3 + 1]
        loss_gap = (((gp - gt) ** 2) * msk.float()).sum() / (msk.float().sum() + 1e-6)
        loss = loss_pos + 2.0 * loss_vel + 2.0 * loss_gap
        if corr_weight > 0:
            mf = msk.float()
            cnt = mf.sum(dim=1) + 1e-6
            gpc = gp - (gp * mf).sum(dim=1, keepdim=True) / cnt[:, None]
            gtc = gt - (gt * mf).sum(dim=1, keepdim=True) / cnt[:, None]
            cov = (gpc * gtc * mf).sum(dim=1)
            r = cov / torch.sqrt((gpc**2 * mf).sum(dim=1) * (gtc**2 * mf).sum(dim=1) + 1e-8)
            loss = loss + corr_weight * (1 - r).mean()
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        sched.step()
        losses.append(float(loss.detach()))
        if step % 200 == 0 or step == steps - 1:
            log(f"  step {step}: loss {np.mean(losses[-50:]):.4f} ({time.perf_counter() - t0:.0f} s)")
    if enc:
        enc.eval()
    head.eval()
    info = {"steps": steps, "final_loss": float(np.mean(losses[-100:])), "train_s": round(time.perf_counter() - t0, 1),
            "encoder_parameters": count_parameters(enc) if enc else None, "head_parameters": count_parameters(head)}
    return enc, head, info


def export_encoder(enc: torch.nn.Module, path: Path) -> None:
    wav = torch.zeros(1, 16000)
    torch.onnx.export(enc, (wav,), str(path), input_names=["input_values"], output_names=["last_hidden_state"],
                      dynamic_axes={"input_values": {1: "samples"}, "last_hidden_state": {1: "frames"}},
                      opset_version=17, dynamo=False)


def export_head(head: MouthHead, feat_dim: int, path: Path) -> None:
    feats = torch.zeros(1, 50, feat_dim)
    ref = torch.zeros(1, head.ref_mean.shape[0])
    torch.onnx.export(head, (feats, ref), str(path), input_names=["features", "reference"],
                      output_names=["mouth_delta"],
                      dynamic_axes={"features": {1: "frames"}, "mouth_delta": {1: "frames"}},
                      opset_version=17, dynamo=False)


def basis_frames_of(pools, bank) -> np.ndarray:
    return np.concatenate([(f - rest[None]).reshape(len(f), -1) for _, f, rest in pools]
                          + [np.stack([bank.shapes[k] for k in bank.shapes]).reshape(len(bank.shapes), -1)])


def ref_frames_of(pools) -> np.ndarray:
    return np.stack([rest.reshape(-1) for _, _, rest in pools])


def augmented(real: list[Utterance], speeds: str) -> list[Utterance]:
    """The real utterances plus their speed-perturbed copies (`speeds`: comma list of rates)."""
    rates = [float(r) for r in speeds.split(",") if r]
    return real + [speed_perturb(u, r) for r in rates for u in real]


def opus_variants(utts: list[Utterance], rng: np.random.Generator) -> dict[str, list[np.ndarray]]:
    cache = CACHE / "opus"
    out = {}
    for u in utts:
        rates = [12, 20, 32] if u.kind == "real" else [int(rng.choice([10, 16, 24, 32]))]
        out[u.name] = [augment.opus_round_trip(u.audio, r, cache) for r in rates]
    return out


def envelope_drive(real: list[Utterance], weight: float, params: env.EnvelopeParams) -> dict:
    """The model's envelope drive (envelope.py) from its training clips' real mouths: the opening
    direction D (regression of the region's displacement from rest on the inner-lip gap) and the
    full-envelope gap G (90th percentile of the gap over speech frames)."""
    up, lo = gap_index()
    disp = np.concatenate([u.target[u.valid] - u.references[0][None] for u in real])
    direction = env.open_direction(disp, up, lo)
    full_gap = float(np.percentile(env.gap_of(disp, up, lo), 90))
    return {"weight": weight, "full_gap_cm": round(full_gap, 5), **params.to_json(),
            "open_direction": np.round(direction.reshape(-1), 6).tolist()}


def estimate_offset(enc, head, u: Utterance, max_lag_s: float = 0.2) -> tuple[float, float]:
    """SyncNet-style offset of one clip: the lag (s, within +-max_lag_s) maximising the correlation
    of a model's predicted inner-lip opening (a model that never saw the clip) with the clip's real
    one; real(t) ~ predicted(t - lag). -> (lag_s, correlation)."""
    from .mouth_space import opening

    region = list(mouth_region())
    cols = [region.index(i) for i in (13, 14, 308, 78)]

    def op(shapes: np.ndarray) -> np.ndarray:
        full = np.zeros((len(shapes), 478, 3))
        full[:, [13, 14, 308, 78]] = shapes[:, cols]
        return opening(full)

    ref = u.references[0]
    with torch.no_grad():
        d = head(enc(torch.tensor(normalise_waveform(u.audio))[None]), torch.tensor(ref.reshape(1, -1)))[0].numpy()
    pred = op(ref[None] + d.reshape(len(d), -1, 3))
    real = op(u.target)
    n = min(len(pred), len(real))
    best = (-2.0, 0)
    k = int(round(max_lag_s * 50))
    for lag in range(-k, k + 1):
        a, b = real[max(0, lag):n + min(0, lag)], pred[max(0, -lag):n - max(0, lag)]
        v = u.valid[:n][max(0, lag):n + min(0, lag)]
        c = float(np.corrcoef(a[v], b[v])[0, 1])
        best = max(best, (c, lag))
    return best[1] / 50, best[0]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=1500)
    ap.add_argument("--synthetic", type=int, default=240, help="synthetic utterances (0 = real speech only)")
    ap.add_argument("--folds", default="all", help="comma list of clip names to hold out, 'all', or 'none'")
    ap.add_argument("--out", type=Path, default=OUT_DIR)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--real-share", type=float, default=0.5, help="share of real-speech crops in a batch")
    ap.add_argument("--encoder-onnx", type=Path,
                    help="a wav2vec2-interface ONNX (input_values -> last_hidden_state): train only the head on its "
                         "features (see wav2vec2_onnx.py for the export recipe)")
    ap.add_argument("--family", default="default", help="name of this model family in the manifest")
    ap.add_argument("--speeds", default="", help="speed perturbation of the real clips, e.g. 0.85,1.15 (targets follow)")
    ap.add_argument("--av-offsets", default="none", choices=["none", "nested"],
                    help="nested: shift each training clip's targets by its audio/video offset, estimated by a "
                         "model trained on the fold's other training clips (never the held-out clip)")
    ap.add_argument("--nested-steps", type=int, default=600)
    ap.add_argument("--envelope-weight", type=float, default=None,
                    help="ship an envelope drive with this weight (0-1; envelope.py); omitted = none")
    ap.add_argument("--envelope-only", action="store_true",
                    help="train nothing: give the manifest's default-family models an envelope drive (--envelope-weight) "
                         "computed from each model's own training clips")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    if args.envelope_only:
        return add_envelope_drives(args.out, args.envelope_weight)
    log = lambda s: print(s, flush=True)  # noqa: E731
    args.out.mkdir(parents=True, exist_ok=True)

    clips = [load_clip(p) for p in SPEECH_CLIPS]
    log(f"real speech: {', '.join(f'{c.name} ({len(c.audio) / 16000:.1f} s)' for c in clips)}")
    synth_items = synthetic_speech(args.synthetic, seed=args.seed) if args.synthetic else []
    log(f"synthetic utterances: {len(synth_items)} ({sum(len(i['audio']) for i in synth_items) / 16000 / 60:.1f} min)")
    external = None
    if args.encoder_onnx:
        import shutil

        from .infer import _session

        sess = _session(args.encoder_onnx)
        dim = sess.get_outputs()[0].shape[-1]
        if not isinstance(dim, int):
            dim = sess.run(None, {sess.get_inputs()[0].name: np.zeros((1, 16000), np.float32)})[0].shape[-1]

        def featurize(w: np.ndarray) -> np.ndarray:
            return sess.run(None, {sess.get_inputs()[0].name: w[None].astype(np.float32)})[0][0].T

        external = (featurize, int(dim))
        enc_name = f"encoder-{args.family}.onnx"
        if args.encoder_onnx.resolve() != (args.out / enc_name).resolve():
            shutil.copyfile(args.encoder_onnx, args.out / enc_name)
        log(f"external encoder {args.encoder_onnx} (D={dim}): training the head only")
    held = [c.name for c in clips] if args.folds == "all" else ([] if args.folds == "none" else args.folds.split(","))
    folds = held + ["all"]
    manifest_models = []
    for fold in folds:
        train_clips = [c for c in clips if c.name != fold]
        lib = motion_library_tracks(exclude={c.name for c in clips})
        id_tracks = [c.track for c in train_clips] + lib
        bank = build_viseme_bank([c.track for c in train_clips])
        pools = identity_pools(id_tracks)
        real = [real_utterance(c) for c in train_clips]
        offsets = {}
        if args.av_offsets == "nested" and external is None:
            for u in real:
                inner = [v for v in real if v is not u]
                e_in, h_in, _ = train_fold(augmented(inner, args.speeds), basis_frames_of(pools, bank), ref_frames_of(pools),
                                           args.nested_steps, args.seed, opus_variants(inner, np.random.default_rng(args.seed)),
                                           lambda s: None, 1.0, None)
                lag, corr = estimate_offset(e_in, h_in, u)
                offsets[u.name] = round(lag, 3)
                log(f"  offset of {u.name}: {lag * 1000:+.0f} ms (corr {corr:.2f}, model trained on {[v.name for v in inner]})")
            real = [shift_targets(u, offsets[u.name]) for u in real]
        synth = synthetic_utterances(synth_items, bank, pools, seed=args.seed)
        utts = augmented(real, args.speeds) + synth
        basis_frames = basis_frames_of(pools, bank)
        ref_frames = ref_frames_of(pools)
        opus = opus_variants(utts, np.random.default_rng(args.seed))
        log(f"fold {fold}: train on {[c.name for c in train_clips]} + {len(synth)} synthetic")
        enc, head, info = train_fold(utts, basis_frames, ref_frames, args.steps, args.seed, opus, log, args.real_share,
                                     external)
        tag = f"loo-{fold}" if fold != "all" else "all"
        prefix = "" if args.family == "default" else f"{args.family}-"
        head_path = args.out / f"mouth-{prefix}{tag}.onnx"
        if enc is not None:
            enc_path = args.out / f"encoder-{prefix}{tag}.onnx"
            export_encoder(enc, enc_path)
        else:
            enc_path = args.out / f"encoder-{args.family}.onnx"
        export_head(head, enc.dim if enc else external[1], head_path)
        manifest_models.append({
            "name": f"{prefix}{tag}", "family": args.family, "encoder": enc_path.name, "head": head_path.name,
            "held_out": None if fold == "all" else fold,
            "held_out_sha256": None if fold == "all" else next(c.sha256 for c in clips if c.name == fold),
            "trained_on_real": [c.name for c in train_clips], "synthetic_utterances": len(synth), **info,
            "speeds": [float(r) for r in args.speeds.split(",") if r], "av_offsets_s": offsets,
            **({"envelope_drive": envelope_drive(real, args.envelope_weight, env.EnvelopeParams())}
               if args.envelope_weight is not None and external is None else {}),
        })
    write_manifest(args.out, manifest_models, clips, synth_items, args)
    return 0


def add_envelope_drives(out: Path, weight: float | None) -> int:
    """Adds (or replaces) `envelope_drive` on every default-family model of `out`/manifest.json,
    from that model's own `trained_on_real` clips (a fold never sees its held-out clip here either)."""
    if weight is None:
        raise SystemExit("--envelope-only needs --envelope-weight")
    path = out / "manifest.json"
    manifest = json.loads(path.read_text())
    clips = {c.name: c for c in (load_clip(p) for p in SPEECH_CLIPS)}
    for m in manifest["models"]:
        if m.get("family", "default") != "default":
            continue
        real = [shift_targets(real_utterance(clips[n]), m.get("av_offsets_s", {}).get(n, 0.0)) for n in m["trained_on_real"]]
        m["envelope_drive"] = envelope_drive(real, weight, env.EnvelopeParams())
        print(f"{m['name']}: envelope drive w={weight}, full gap {m['envelope_drive']['full_gap_cm']} cm "
              f"(from {m['trained_on_real']})", flush=True)
    manifest["provenance"]["envelope_drive_by"] = f"python -m avatar_ml.audio.train --envelope-only --envelope-weight {weight}"
    path.write_text(json.dumps(manifest, indent=1) + "\n")
    return 0


def write_manifest(out: Path, models: list[dict], clips, synth_items, args) -> None:
    from ..teacher.topology import RIGID_LANDMARKS
    from .mouth_space import canonical_vertices

    path = out / "manifest.json"
    old = json.loads(path.read_text()) if path.exists() else {}
    by_name = {m["name"]: m for m in old.get("models", [])}
    by_name.update({m["name"]: m for m in models})
    engines = sorted({i["engine"] for i in synth_items})
    manifest = {
        "format": "avatar.audio_to_mouth",
        "version": 1,
        "sample_rate": 16000,
        "frame_rate": 50,
        "window_samples": WINDOW,
        "hop_samples": HOP,
        "encoder": {"kind": "logmel-conv", "input": "input_values (1,N) float32, zero-mean unit-variance",
                    "output": "last_hidden_state (1,T,D)", "dim": 64},
        "head": {"inputs": {"features": "(1,T,D)", "reference": "(1,R*3) canonical cm"},
                 "output": "mouth_delta (1,T,R*3) canonical cm, displacement from the reference"},
        "lookahead_ms": lookahead_ms(),
        "mouth_region": mouth_region().tolist(),
        "rigid_landmarks": RIGID_LANDMARKS.tolist(),
        "canonical_rigid": canonical_vertices()[RIGID_LANDMARKS].round(5).tolist(),
        "canonical_region": canonical_vertices()[mouth_region()].round(5).tolist(),
        "models": sorted(by_name.values(), key=lambda m: m["name"]),
        "provenance": {
            "real_speech": [{"clip": c.path.name, "sha256": c.sha256, "seconds": round(len(c.audio) / 16000, 2)}
                            for c in clips],
            "synthetic": {"utterances": len(synth_items), "engines": engines,
                          "minutes": round(sum(len(i["audio"]) for i in synth_items) / 16000 / 60, 2),
                          "targets": "phone timings -> viseme shapes from the training clips, dominance coarticulation"},
            "augmentation": "noise (white/pink, 5-35 dB SNR), synthetic-RIR reverb, clipping, gain, Opus round trip "
                            "(ffmpeg libopus 10-32 kb/s)",
            "trained_by": "python -m avatar_ml.audio.train " + " ".join(
                f"--{k.replace('_', '-')} {v}" for k, v in vars(args).items() if k != "out" and v is not None),
        },
    }
    if args.family != "default" and old.get("provenance"):
        # another family's run: keep the default family's provenance, file this one beside it
        manifest["family_provenance"] = {**old.get("family_provenance", {}), args.family: manifest["provenance"]}
        manifest["provenance"] = old["provenance"]
        manifest["lookahead_ms"] = old.get("lookahead_ms", manifest["lookahead_ms"])
    path.write_text(json.dumps(manifest, indent=1) + "\n")


if __name__ == "__main__":
    raise SystemExit(main())
