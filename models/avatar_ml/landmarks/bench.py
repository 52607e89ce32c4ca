"""Speed of the offline landmark extractor, in ms per frame (prints figures; not a test).

    PYTHONPATH=models models/.venv/bin/python -m avatar_ml.landmarks.bench [--clip ../shared/media/d10.mp4] \
        [--frames 150] [--threads 2]

Measures, on the same decoded frames: VIDEO-mode tracking (the detector only when tracking is lost),
IMAGE-mode detection on every frame (detector + landmarks: the baseline tracking saves against),
the model stages separately, and the geometry pipeline batched over the clip vs frame by frame.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from .canonical_mesh import load_canonical_mesh
from .extractor import FaceLandmarkExtractor
from .geometry import GeometryPipeline
from .video_io import probe, read_frames

DEFAULT_CLIP = Path(__file__).resolve().parents[3] / ".." / "shared" / "media" / "d10.mp4"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clip", type=Path, default=DEFAULT_CLIP)
    ap.add_argument("--frames", type=int, default=150)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args(argv)
    frames = read_frames(a.clip, a.frames)
    fps = probe(a.clip).fps
    n = len(frames)
    ex = FaceLandmarkExtractor(threads=a.threads)
    ex.track(frames[:5], fps)  # warm-up (XNNPACK set-up)

    ex.timings_ms = dict.fromkeys(ex.timings_ms, 0.0)
    t0 = time.perf_counter()
    track = ex.track(frames, fps)
    video_ms = (time.perf_counter() - t0) * 1e3 / n
    stages = {k: v / n for k, v in ex.timings_ms.items()}

    t0 = time.perf_counter()
    found = sum(ex.detect(f) is not None for f in frames)
    image_ms = (time.perf_counter() - t0) * 1e3 / n

    geo = GeometryPipeline(load_canonical_mesh())
    lm = track.landmarks[track.valid]
    t0 = time.perf_counter()
    for i in range(len(lm)):
        geo.transform(lm[i : i + 1], track.width, track.height)
    loop_ms = (time.perf_counter() - t0) * 1e3 / max(1, len(lm))
    t0 = time.perf_counter()
    geo.transform(lm, track.width, track.height)
    batch_ms = (time.perf_counter() - t0) * 1e3 / max(1, len(lm))

    print(f"clip {a.clip.name}: {n} frames {track.width}x{track.height}, {a.threads} interpreter threads")
    print(f"VIDEO mode (track):          {video_ms:7.2f} ms/frame  ({int(track.valid.sum())}/{n} frames with a face)")
    print(f"  detector {stages['detector']:.2f} + landmark model {stages['landmarks']:.2f} + geometry {stages['geometry']:.2f} ms/frame")
    print(f"IMAGE mode (detect, baseline):{image_ms:7.2f} ms/frame  ({found}/{n} frames with a face)"
          f"  -> tracking is {image_ms / video_ms:.2f}x faster")
    print(f"geometry per frame in a loop: {loop_ms:7.3f} ms/frame; batched over the clip: {batch_ms:.3f} ms/frame"
          f" ({loop_ms / batch_ms:.1f}x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
