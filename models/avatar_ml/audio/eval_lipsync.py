"""`npm run eval:lipsync -- --clip <mp4 with speech> [--audio <wav>] --out <dir>`

Predicts mouth motion from the clip's audio with the shipped model that never trained on the clip
(leave-one-clip-out, by the clip's sha256; the `all` model for clips outside the training set) as
the server shows it (the model's envelope drive and the VAD speech gate, evaluate.py), scores it
against the clip's real landmarks with the baselines of the same run (audio energy -> opening,
constant mouth), and renders a side-by-side video (real | teacher driven by the predicted
landmarks), real audio muxed in. With `--audio` the clip only gives the identity and the head
motion (looped to the audio's length) and nothing is scored.

Writes <dir>/lipsync.json and <dir>/lipsync_side_by_side.mp4; the last stdout line is
{"mouth_corr", "energy_baseline_corr", "lmd_px"} (null when not scored).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from .clips import REPO_ROOT, SPEECH_CLIPS, load_audio, load_clip
from .evaluate import fit_energy, predicted_landmarks, score
from .infer import AudioToMouth, choose_model, read_manifest
from .model import lookahead_ms

DEFAULT_MODEL_DIR = REPO_ROOT / "models" / "audio"


def _pingpong(n_src: int, n_dst: int) -> np.ndarray:
    cyc = np.concatenate([np.arange(n_src), np.arange(n_src - 2, 0, -1)]) if n_src > 2 else np.arange(n_src)
    return cyc[np.arange(n_dst) % len(cyc)]


def render_video(out: Path, clip_path: Path, track, pred: np.ndarray, audio_path: Path | None, audio: np.ndarray,
                 frames_idx: np.ndarray, log) -> None:
    from ..eval.side_by_side import side_by_side_frames
    from ..landmarks.video_io import read_frames, write_video
    from ..teacher import TeacherConfig, TeacherRenderer
    import cv2

    frames = read_frames(clip_path)
    src = int(np.nonzero(track.valid)[0][0])
    teacher = TeacherRenderer.create(frames[src], track.landmarks[src], config=TeacherConfig(out_size=256))
    real_col, pred_col = [], []
    t0 = time.perf_counter()
    for k, i in enumerate(frames_idx):
        real_col.append(cv2.resize(frames[i], (256, 256), interpolation=cv2.INTER_AREA))
        pred_col.append(teacher.render(pred[k]) if np.isfinite(pred[k]).all() else real_col[-1] * 0)
    log(f"rendered {len(frames_idx)} frames ({(time.perf_counter() - t0) / max(1, len(frames_idx)):.3f} s/frame)")
    label = "real (pose source)" if audio_path else "real"
    tiles = side_by_side_frames([(label, real_col), ("audio -> mouth (teacher)", pred_col)])
    silent = out / "lipsync_silent.mp4"
    write_video(silent, tiles, track.fps, crf=28)
    wav = out / "lipsync_audio.wav"
    import soundfile as sf

    sf.write(wav, audio, 16000)
    res = subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(silent), "-i", str(wav), "-c:v", "copy", "-c:a",
                          "aac", "-b:a", "96k", "-shortest", str(out / "lipsync_side_by_side.mp4")], capture_output=True)
    if res.returncode != 0:
        raise RuntimeError(f"ffmpeg mux failed: {res.stderr.decode()[-300:]}")
    silent.unlink()
    wav.unlink()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clip", type=Path, required=True)
    ap.add_argument("--audio", type=Path)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--models", type=Path, default=DEFAULT_MODEL_DIR)
    ap.add_argument("--no-video", action="store_true")
    ap.add_argument("--family", default="default", help="model family in the manifest (e.g. wav2vec2-random)")
    args = ap.parse_args(argv)
    log = lambda s: print(s, file=sys.stderr, flush=True)  # noqa: E731
    args.out.mkdir(parents=True, exist_ok=True)
    if not args.clip.exists():
        ap.error(f"--clip {args.clip} does not exist")

    manifest = read_manifest(args.models)
    clip = load_clip(args.clip)
    entry = choose_model(manifest, clip.sha256, args.family)
    model = AudioToMouth.load(args.models, entry)
    log(f"{clip.name}: model {entry['name']} (trained on {entry['trained_on_real']}), look-ahead {lookahead_ms():.1f} ms")
    result: dict = {"clip": str(args.clip), "model": entry["name"], "lookahead_ms": lookahead_ms()}
    if args.audio:
        audio = load_audio(args.audio)
        n = int(np.ceil(len(audio) / 16000 * clip.track.fps))
        idx = _pingpong(len(clip.track), n)
        from ..landmarks.track_io import LandmarkTrack

        track = LandmarkTrack(clip.track.landmarks[idx], clip.track.transform[idx], clip.track.valid[idx],
                              clip.track.fps, clip.track.width, clip.track.height, clip.track.source)
        pred = predicted_landmarks(model, audio, track)
        result.update({"audio": str(args.audio), "mouth_corr": None, "energy_baseline_corr": None, "lmd_px": None})
    else:
        others = [load_clip(p) for p in SPEECH_CLIPS if p.resolve() != args.clip.resolve()]
        fit = fit_energy([(o.audio, o.track) for o in others])
        scores, pred = score(model, clip.audio, clip.track, fit)
        audio, track, idx = clip.audio, clip.track, np.arange(len(clip.track))
        result.update(scores)
    if not args.no_video:
        render_video(args.out, args.clip, clip.track, pred, args.audio, audio, idx, log)
    (args.out / "lipsync.json").write_text(json.dumps(result, indent=1) + "\n")
    log(json.dumps(result))
    line = {k: (round(result[k], 4) if isinstance(result.get(k), float) else result.get(k))
            for k in ("mouth_corr", "energy_baseline_corr", "lmd_px")}
    print(json.dumps(line), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
