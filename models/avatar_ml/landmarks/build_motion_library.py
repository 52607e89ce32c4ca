"""Builds the motion library: landmark tracks of every clip (and portrait) in ../shared/media.

    PYTHONPATH=models models/.venv/bin/python -m avatar_ml.landmarks.build_motion_library \
        [--media ../shared/media] [--out models/motion_library] [--force] [--check]

Writes `<out>/<name>.npz` (track_io format, landmarks uint16-quantized) per clip and `<out>/index.json`.
Clips are tracked in VIDEO mode with the browser's smoothing (what a live participant sends); images
(jpg/png) become one-frame tracks in IMAGE mode. Entries whose source sha256 and extractor version
are unchanged are kept (re-runs are cheap); `--check` only verifies the library against the media and
exits non-zero when anything is missing or stale.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from .extractor import EXTRACTOR_VERSION, FaceLandmarkExtractor
from .track_io import FORMAT, VERSION, LandmarkTrack, load_track
from .video_io import probe, read_frames, read_image
from ..files import sha256_file

REPO_ROOT = Path(__file__).resolve().parents[3]
DEFAULT_MEDIA = REPO_ROOT / ".." / "shared" / "media"
DEFAULT_OUT = REPO_ROOT / "models" / "motion_library"
VIDEO_EXT = {".mp4", ".mov", ".mkv", ".webm"}
IMAGE_EXT = {".jpg", ".jpeg", ".png"}


def sources(media: Path) -> list[Path]:
    return sorted(p for p in media.iterdir() if p.suffix.lower() in VIDEO_EXT | IMAGE_EXT)


def extract(ex: FaceLandmarkExtractor, path: Path) -> tuple[LandmarkTrack, str]:
    if path.suffix.lower() in IMAGE_EXT:
        img = read_image(path)
        res = ex.detect(img)
        h, w = img.shape[:2]
        lm = res.landmarks[None] if res else np.full((1, 478, 3), np.nan, np.float32)
        tf = res.transform[None] if res else np.full((1, 4, 4), np.nan, np.float32)
        return LandmarkTrack(lm, tf, np.array([res is not None]), 1.0, w, h, path.name,
                             {"extractor": EXTRACTOR_VERSION, "smoothing": "none"}), "image"
    info = probe(path)
    return ex.track(read_frames(path), info.fps, source=path.name, smooth=True), "video"


def build(media: Path, out: Path, force: bool = False, log=print) -> dict:
    out.mkdir(parents=True, exist_ok=True)
    index_path = out / "index.json"
    old = {e["clip"]: e for e in json.loads(index_path.read_text())["clips"]} if index_path.exists() else {}
    ex: FaceLandmarkExtractor | None = None
    entries = []
    for src in sources(media):
        sha = sha256_file(src)
        name = src.stem + ".npz"
        prev = old.get(src.name)
        if (not force and prev and prev["sha256"] == sha and prev["extractor"] == EXTRACTOR_VERSION
                and (out / name).exists()):
            entries.append(prev)
            log(f"{src.name}: unchanged")
            continue
        ex = ex or FaceLandmarkExtractor()
        t0 = time.perf_counter()
        track, kind = extract(ex, src)
        track.meta.update({"sha256": sha, "source_file": src.name})
        track.save_track(out / name, quantize=True)
        secs = time.perf_counter() - t0
        entries.append({
            "clip": src.name, "file": name, "kind": kind, "frames": len(track), "valid_frames": int(track.valid.sum()),
            "fps": track.fps, "width": track.width, "height": track.height, "sha256": sha,
            "extractor": EXTRACTOR_VERSION, "smoothing": track.meta["smoothing"],
            "bytes": (out / name).stat().st_size,
        })
        log(f"{src.name}: {len(track)} frames, {int(track.valid.sum())} with a face, "
            f"{secs * 1e3 / len(track):.1f} ms/frame, {(out / name).stat().st_size / 1e6:.2f} MB")
    index = {"format": FORMAT, "track_version": VERSION, "extractor": EXTRACTOR_VERSION,
             "media": "../shared/media", "clips": entries}
    index_path.write_text(json.dumps(index, indent=1) + "\n")
    log(f"library: {len(entries)} tracks, {sum(e['bytes'] for e in entries) / 1e6:.2f} MB in {out}")
    return index


def check(media: Path, out: Path) -> list[str]:
    """Problems of the library against the media ([] when it is complete and current)."""
    index_path = out / "index.json"
    if not index_path.exists():
        return [f"{index_path} missing"]
    entries = {e["clip"]: e for e in json.loads(index_path.read_text())["clips"]}
    problems = []
    for src in sources(media):
        e = entries.get(src.name)
        if e is None:
            problems.append(f"{src.name}: not in the library")
        elif e["sha256"] != sha256_file(src):
            problems.append(f"{src.name}: source changed since extraction")
        elif e["extractor"] != EXTRACTOR_VERSION:
            problems.append(f"{src.name}: extracted by {e['extractor']}, current is {EXTRACTOR_VERSION}")
        else:
            try:
                t = load_track(out / e["file"])
                if len(t) != e["frames"]:
                    problems.append(f"{e['file']}: {len(t)} frames, index says {e['frames']}")
            except (OSError, ValueError) as err:
                problems.append(f"{e['file']}: {err}")
    return problems


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--media", type=Path, default=DEFAULT_MEDIA)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--force", action="store_true", help="re-extract every clip")
    ap.add_argument("--check", action="store_true", help="only verify the library is complete and current")
    a = ap.parse_args(argv)
    if a.check:
        problems = check(a.media, a.out)
        for p in problems:
            print(p)
        print("motion library: " + ("stale" if problems else "up to date"))
        return 1 if problems else 0
    build(a.media, a.out, a.force)
    return 0


if __name__ == "__main__":
    sys.exit(main())
