"""Python extractor vs the browser's FaceLandmarker on the same frames of a clip.

    PYTHONPATH=models models/.venv/bin/python -m avatar_ml.landmarks.compare_browser --clip ../shared/media/d10.mp4 \
        [--frames N] [--browser dump.json|dump.bin] [--json out.json]

The browser reference is the product's FaceTracker (MediaPipe tasks-vision, VIDEO mode, CPU) run in
headless Chromium by `test/tools/extract-browser-landmarks.ts`; its cache in .data/landmarks/ is used
when present, otherwise the tool is run. Reports, over frames where both found a face, the 2D landmark
distance in pixels of the full frame and of the 256x256 rotation-aligned face crop (mean, p95, max),
z and facial-transformation-matrix differences, for three configurations measured in the same run:
- `mediapipe_video`: rotation-aligned ROI + MediaPipe's VIDEO-mode smoothing (what the browser runs);
- `aligned_raw`: rotation-aligned ROI, no smoothing;
- `square_raw`: plain axis-aligned square crop, no smoothing (the baseline).
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from .browser_landmarks import BrowserLandmarks, read_browser_landmarks
from .extractor import LM_SIZE, FaceLandmarkExtractor
from .video_io import read_frames
from ..files import sha256_file

REPO_ROOT = Path(__file__).resolve().parents[3]
CACHE_DIR = REPO_ROOT / ".data" / "landmarks"

CONFIGS = {
    "mediapipe_video": dict(rotation_aligned=True, smooth=True),
    "aligned_raw": dict(rotation_aligned=True, smooth=False),
    "square_raw": dict(rotation_aligned=False, smooth=False),
}


def find_or_extract_browser(clip: Path, frames: int | None) -> Path:
    """The browser dump of `clip`: from the extraction tool's cache, else by running the tool."""
    sha = sha256_file(clip)
    for suffix in (["all"] + ([str(frames)] if frames else [])):
        p = CACHE_DIR / f"{clip.stem}-{sha[:16]}-{suffix}.json"
        if p.exists():
            return p
    cmd = ["npx", "tsx", "test/tools/extract-browser-landmarks.ts", "--clip", str(clip)]
    if frames:
        cmd += ["--frames", str(frames)]
    print(f"running the browser extraction: {' '.join(cmd)}", file=sys.stderr)
    subprocess.run(cmd, cwd=REPO_ROOT, check=True, stdout=subprocess.DEVNULL)
    return CACHE_DIR / f"{clip.stem}-{sha[:16]}-{frames or 'all'}.json"


def _rotation_deg(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Angle between the rotation parts of (N,4,4) similarity transforms, in degrees."""
    ra = a[:, :3, :3] / np.linalg.norm(a[:, :3, 0], axis=1)[:, None, None]
    rb = b[:, :3, :3] / np.linalg.norm(b[:, :3, 0], axis=1)[:, None, None]
    cos = (np.einsum("nij,nij->n", ra, rb) - 1) / 2
    return np.degrees(np.arccos(np.clip(cos, -1, 1)))


def compare(ours_lm: np.ndarray, ours_tf: np.ndarray, ours_ok: np.ndarray, roi_side_px: np.ndarray,
            ref: BrowserLandmarks) -> dict:
    t = min(len(ours_ok), len(ref.present))
    both = ours_ok[:t] & ref.present[:t]
    scale = np.array([ref.width, ref.height], np.float32)
    d = np.linalg.norm((ours_lm[:t][both, :, :2] - ref.landmarks[:t][both, :, :2]) * scale, axis=-1)
    crop = d * (LM_SIZE / roi_side_px[:t][both])[:, None]
    dz = np.abs(ours_lm[:t][both, :, 2] - ref.landmarks[:t][both, :, 2]) * ref.width
    rot = _rotation_deg(ours_tf[:t][both], ref.transform[:t][both])
    dt = np.linalg.norm(ours_tf[:t][both, :3, 3] - ref.transform[:t][both, :3, 3], axis=1)

    def stats(x: np.ndarray) -> dict:
        return {"mean": float(x.mean()), "p95": float(np.percentile(x, 95)), "max": float(x.max())}

    first = int(np.argmax(both)) if both.any() else None  # detector ROI, no smoothing yet: IMAGE mode
    return {
        "first_frame_px_mean": float(d[0].mean()) if first is not None else None,
        "frames": int(t),
        "frames_both": int(both.sum()),
        "frames_only_ours": int((ours_ok[:t] & ~ref.present[:t]).sum()),
        "frames_only_browser": int((~ours_ok[:t] & ref.present[:t]).sum()),
        "full_frame_px": stats(d) if both.any() else None,
        "crop256_px": stats(crop) if both.any() else None,
        "z_px_mean": float(dz.mean()) if both.any() else None,
        "matrix_rotation_deg_mean": float(rot.mean()) if both.any() else None,
        "matrix_translation_cm_mean": float(dt.mean()) if both.any() else None,
    }


def run(clip: Path, frames: int | None, browser: Path | None, configs: list[str]) -> dict:
    ref = read_browser_landmarks(browser or find_or_extract_browser(clip, frames))
    n = min(frames or len(ref.present), len(ref.present))
    video = read_frames(clip, n)
    if video.shape[1:3] != (ref.height, ref.width):
        raise SystemExit(f"frame size {video.shape[2]}x{video.shape[1]} != browser {ref.width}x{ref.height}")
    out = {"clip": clip.name, "width": ref.width, "height": ref.height, "fps": ref.fps,
           "browser_tracker": ref.tracker, "configs": {}}
    for name in configs:
        opts = CONFIGS[name]
        ex = FaceLandmarkExtractor(rotation_aligned=opts["rotation_aligned"])
        t0 = time.perf_counter()
        track, rois = ex.track_with_rois(video, ref.fps, source=str(clip), smooth=opts["smooth"])
        ms = (time.perf_counter() - t0) * 1e3 / len(video)
        side = np.array([r.width * ref.width if r is not None else math.nan for r in rois], np.float32)
        res = compare(track.landmarks, track.transform, track.valid, side, ref)
        res["ms_per_frame"] = ms
        res["ms_breakdown"] = {k: v / len(video) for k, v in ex.timings_ms.items()}
        out["configs"][name] = res
    return out


def format_report(r: dict) -> str:
    lines = [f"{r['clip']} ({r['width']}x{r['height']} @ {r['fps']:g} fps) vs browser {r['browser_tracker'].get('package', '?')}",
             f"{'config':<16} {'frames':>7} {'full mean':>9} {'full p95':>9} {'full max':>9} {'crop mean':>9} "
             f"{'crop p95':>9} {'z mean':>7} {'rot deg':>7} {'t cm':>6} {'ms/frame':>8}"]
    for name, c in r["configs"].items():
        if c["full_frame_px"] is None:
            lines.append(f"{name:<16} no common frames")
            continue
        f, k = c["full_frame_px"], c["crop256_px"]
        lines.append(f"{name:<16} {c['frames_both']:>7} {f['mean']:>9.3f} {f['p95']:>9.3f} {f['max']:>9.3f} "
                     f"{k['mean']:>9.3f} {k['p95']:>9.3f} {c['z_px_mean']:>7.3f} {c['matrix_rotation_deg_mean']:>7.3f} "
                     f"{c['matrix_translation_cm_mean']:>6.3f} {c['ms_per_frame']:>8.1f}")
        lines.append(f"{'':<16} first common frame (detector ROI, as IMAGE mode): {c['first_frame_px_mean']:.4f} px mean")
        if c["frames_only_ours"] or c["frames_only_browser"]:
            lines.append(f"{'':<16} face only in ours: {c['frames_only_ours']}, only in browser: {c['frames_only_browser']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clip", required=True, type=Path, action="append", help="mp4 clip (repeatable)")
    ap.add_argument("--frames", type=int, help="only the first N frames")
    ap.add_argument("--browser", type=Path, help="browser dump (default: the extraction tool's cache, or run it)")
    ap.add_argument("--configs", default=",".join(CONFIGS), help="comma-separated subset of " + ",".join(CONFIGS))
    ap.add_argument("--json", type=Path, help="write the figures as JSON")
    a = ap.parse_args(argv)
    configs = [c for c in a.configs.split(",") if c]
    unknown = [c for c in configs if c not in CONFIGS]
    if unknown:
        ap.error(f"unknown configs {unknown}")
    if a.browser and len(a.clip) > 1:
        ap.error("--browser goes with a single --clip")
    results = []
    for clip in a.clip:
        r = run(clip, a.frames, a.browser, configs)
        print(format_report(r), flush=True)
        results.append(r)
    if a.json:
        a.json.write_text(json.dumps(results, indent=1))
    empty = [f"{r['clip']} {name}" for r in results for name, c in r["configs"].items() if c["frames_both"] == 0]
    if empty:
        # A comparison over no frames measured nothing: that is a failure, not a pass.
        print(f"FAIL: no frame where both found a face: {', '.join(empty)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
