"""Prints same-person vs different-person identity distances across the shared media clips.

    PYTHONPATH=models models/.venv/bin/python -m avatar_ml.identity.clip_report [--frames 6]

For each clip, `--frames` frames spread over it are embedded (MediaPipe landmarks -> face-api
alignment -> recogniser). Same person: distances between frames of one clip (and from its first
frame, the "source frame" of the evaluation harness). Different people: between frames of two
clips. Both alignment modes are reported so the default can be chosen by measurement.
"""

from __future__ import annotations

import argparse
import itertools
import time
from pathlib import Path

import numpy as np

from avatar_ml.landmarks.extractor import FaceLandmarkExtractor

from .embedder import SAME_PERSON_THRESHOLD, IdentityEmbedder
from .samples import sample_frames
from .weights import REPO_ROOT

MEDIA_DIR = REPO_ROOT.parent / "shared" / "media"
DEFAULT_CLIPS = ("d10.mp4", "d12.mp4", "d14.mp4", "d18.mp4", "d19.mp4", "WDA_KatieHill_000.mp4",
                 "s0.jpg")


def _pairwise(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.linalg.norm(a[:, None, :] - b[None, :, :], axis=-1)


def embed_clips(clips: list[Path], frames: int, modes: list[str]) -> dict[str, dict[str, np.ndarray]]:
    """{mode: {clip name: (n,128)}} for the frames where MediaPipe found a face."""
    extractor = FaceLandmarkExtractor()
    embedders = {m: IdentityEmbedder(align=m) for m in modes}  # type: ignore[arg-type]
    out: dict[str, dict[str, np.ndarray]] = {m: {} for m in modes}
    for clip in clips:
        images, marks = [], []
        for _, frame in sample_frames(clip, frames):
            face = extractor.detect(frame)
            if face is not None:
                images.append(frame)
                marks.append(face.landmarks)
        for mode, emb in embedders.items():
            out[mode][clip.name] = emb.embed(images, landmarks=marks)
    return out


def report(by_clip: dict[str, np.ndarray]) -> dict[str, float]:
    """Prints the per-clip and cross-clip table of one alignment mode; returns the summary."""
    names = list(by_clip)
    same, from_source, diff = [], [], []
    print(f"{'clip':24s} {'n':>3s} {'same mean':>9s} {'same max':>9s} {'src max':>8s} "
          f"{'other min':>9s} {'other mean':>10s}")
    for name in names:
        e = by_clip[name]
        d = _pairwise(e, e)[np.triu_indices(len(e), 1)]
        src = np.linalg.norm(e[1:] - e[0], axis=-1)
        others = np.concatenate([_pairwise(e, by_clip[o]).ravel() for o in names if o != name])
        same.extend(d)
        from_source.extend(src)
        print(f"{name:24s} {len(e):3d} {np.mean(d) if len(d) else np.nan:9.3f} "
              f"{np.max(d) if len(d) else np.nan:9.3f} {np.max(src) if len(src) else np.nan:8.3f} "
              f"{others.min():9.3f} {others.mean():10.3f}")
    for a, b in itertools.combinations(names, 2):
        diff.extend(_pairwise(by_clip[a], by_clip[b]).ravel())
    same_a, diff_a = np.asarray(same), np.asarray(diff)
    summary = {
        "same_mean": float(same_a.mean()), "same_max": float(same_a.max()),
        "source_max": float(np.max(from_source)),
        "diff_min": float(diff_a.min()), "diff_mean": float(diff_a.mean()),
        "same_over_threshold": float(np.mean(same_a >= SAME_PERSON_THRESHOLD)),
        "diff_under_threshold": float(np.mean(diff_a < SAME_PERSON_THRESHOLD)),
    }
    print("mean distance between clips:")
    print(" " * 24 + "".join(f"{n[:7]:>8s}" for n in names))
    for a in names:
        row = [np.mean(_pairwise(by_clip[a], by_clip[b])) for b in names]
        print(f"{a:24s}" + "".join(f"{v:8.3f}" for v in row))
    print(f"same person: {len(same_a)} pairs, mean {summary['same_mean']:.3f}, max "
          f"{summary['same_max']:.3f} (from the source frame: max {summary['source_max']:.3f}); "
          f"{100 * summary['same_over_threshold']:.1f}% >= {SAME_PERSON_THRESHOLD}")
    print(f"different people: {len(diff_a)} pairs, min {summary['diff_min']:.3f}, mean "
          f"{summary['diff_mean']:.3f}; {100 * summary['diff_under_threshold']:.1f}% < "
          f"{SAME_PERSON_THRESHOLD}")
    return summary


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--media", type=Path, default=MEDIA_DIR)
    parser.add_argument("--clips", nargs="+", default=list(DEFAULT_CLIPS))
    parser.add_argument("--frames", type=int, default=6, help="frames per clip")
    parser.add_argument("--modes", nargs="+", default=["faceapi", "similarity"],
                        choices=["faceapi", "similarity"])
    args = parser.parse_args(argv)
    clips = [args.media / c for c in args.clips]
    t0 = time.perf_counter()
    by_mode = embed_clips(clips, args.frames, args.modes)
    print(f"embedded {sum(len(v) for v in next(iter(by_mode.values())).values())} frames x "
          f"{len(args.modes)} modes in {time.perf_counter() - t0:.1f} s")
    for mode, by_clip in by_mode.items():
        print(f"\n== alignment: {mode} ==")
        report(by_clip)


if __name__ == "__main__":
    main()
