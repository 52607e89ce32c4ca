"""Offline decomposition of the live avatar's mouth-opening chain (second half; renderChain.ts first).

Reads <dir>/chain.json and <dir>/frames.rgb written by renderChain.ts, then measures each link with
the real parts, on the ticks rendered from live motion:
  driver -> retargeted:   the driver's inner-lip gap / face height vs the retargeted landmarks' (abs)
  driver -> student raw:  vs MediaPipe FaceLandmarker (avatar_ml.landmarks.extractor, VIDEO mode with
                          the browser's one-euro smoothing) on the student's 256x256 frames
  driver -> VP8:          the same after a VP8 round trip with the server's ffmpeg libvpx settings
                          (realtime, cpu-used 8, CBR at --kbps, error resilient, as FfmpegVp8Encoder.ts)
and the lag (ticks, -5..+5) where the driver -> VP8 correlation peaks. Prints one JSON line; writes the
per-tick openings to <dir>/mouth.json (-1 where no face was found).

  PYTHONPATH=models models/.venv/bin/python test/tools/mouth-chain/mouthChain.py <dir> [--kbps 600] [--skip 0]
"""

from __future__ import annotations

import argparse
import json
import subprocess
from pathlib import Path

import numpy as np

from avatar_ml.landmarks.extractor import FaceLandmarkExtractor


def mouth(lm: np.ndarray, size: int) -> np.ndarray:
    """(T,478,>=2) normalised landmarks -> inner lip gap (13-14) / face height (10-152); NaN where invalid."""
    p = lm[..., :2] * size
    return np.linalg.norm(p[:, 13] - p[:, 14], axis=-1) / np.linalg.norm(p[:, 10] - p[:, 152], axis=-1)


def vp8_round_trip(frames: np.ndarray, fps: int, kbps: int) -> np.ndarray:
    """Encodes (T,S,S,3) RGB with the live encoder's libvpx settings, decodes back to RGB."""
    t, s = frames.shape[0], frames.shape[1]
    rate = f"{kbps}k"
    enc = subprocess.run(
        ["ffmpeg", "-hide_banner", "-loglevel", "error", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{s}x{s}",
         "-r", str(fps), "-i", "pipe:0", "-c:v", "libvpx", "-deadline", "realtime", "-cpu-used", "8",
         "-lag-in-frames", "0", "-auto-alt-ref", "0", "-error-resilient", "1", "-threads", "1",
         "-b:v", rate, "-minrate", rate, "-maxrate", rate, "-bufsize", f"{kbps // 2}k",
         "-undershoot-pct", "95", "-qmin", "4", "-qmax", "56", "-g", "250", "-pix_fmt", "yuv420p",
         "-f", "ivf", "pipe:1"], input=frames.tobytes(), capture_output=True, check=True)
    dec = subprocess.run(
        ["ffmpeg", "-hide_banner", "-loglevel", "error", "-f", "ivf", "-i", "pipe:0", "-f", "rawvideo",
         "-pix_fmt", "rgb24", "pipe:1"], input=enc.stdout, capture_output=True, check=True)
    out = np.frombuffer(dec.stdout, np.uint8)
    if out.size != frames.size:
        raise RuntimeError(f"VP8 round trip returned {out.size} bytes, expected {frames.size}")
    return out.reshape(t, s, s, 3), len(enc.stdout) * 8 / (t / fps) / 1000


def corr(a: np.ndarray, b: np.ndarray) -> float:
    ok = np.isfinite(a) & np.isfinite(b)
    return float(np.corrcoef(a[ok], b[ok])[0, 1])


def lag_scan(driver: np.ndarray, seen: np.ndarray, live: np.ndarray) -> dict[int, float]:
    out = {}
    idx = np.flatnonzero(live)
    for k in range(-5, 6):
        j = idx + k
        ok = (j >= 0) & (j < len(seen))
        out[k] = round(corr(driver[idx[ok]], seen[j[ok]]), 3)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dir", type=Path)
    ap.add_argument("--kbps", type=int, default=600, help="VP8 bitrate (the live encoder's start bitrate is 600)")
    ap.add_argument("--skip", type=int, default=0,
                    help="measure from this tick on (the e2e's window opens seconds after calibration)")
    args = ap.parse_args()
    chain = json.loads((args.dir / "chain.json").read_text())
    ticks = chain["ticks"]
    size, fps = chain["size"], chain["fps"]
    frames = np.fromfile(args.dir / "frames.rgb", np.uint8).reshape(len(ticks), size, size, 3)
    live = np.array([t["state"] == "live" and t["tick"] >= args.skip for t in ticks])
    driver = np.array([t["driver"] for t in ticks])
    retargeted = np.array([t["retargeted"] for t in ticks])
    signed = np.array([t["retargetedSigned"] for t in ticks])
    ex = FaceLandmarkExtractor(threads=1)
    raw = mouth(ex.track(frames, fps=fps).landmarks, size)
    coded, actual_kbps = vp8_round_trip(frames, fps, args.kbps)
    vp8 = mouth(FaceLandmarkExtractor(threads=1).track(coded, fps=fps).landmarks, size)
    (args.dir / "mouth.json").write_text(json.dumps({
        "live": live.tolist(), "driver": driver.tolist(), "retargeted": retargeted.tolist(),
        "student_raw": np.where(np.isfinite(raw), raw, -1).tolist(), "vp8": np.where(np.isfinite(vp8), vp8, -1).tolist()}))
    d = driver[live]
    lags = lag_scan(driver, vp8, live)
    print(json.dumps({
        "dir": str(args.dir), "live_ticks": int(live.sum()),
        "driver_to_retargeted": round(corr(d, retargeted[live]), 3),
        "driver_to_retargeted_signed": round(corr(d, signed[live]), 3),
        "retargeted_crossed_lips_frac": round(float((signed[live] < 0).mean()), 3),
        "driver_to_student_raw": round(corr(d, raw[live]), 3),
        "retargeted_to_student_raw": round(corr(retargeted[live], raw[live]), 3),
        "driver_to_vp8": round(corr(d, vp8[live]), 3),
        "student_raw_to_vp8": round(corr(raw[live], vp8[live]), 3),
        "vp8_kbps": round(actual_kbps), "lag_peak": max(lags, key=lags.get), "lags": lags,
        "mean_open": {"driver": round(float(d.mean()), 4), "retargeted": round(float(retargeted[live].mean()), 4),
                      "student_raw": round(float(np.nanmean(raw[live])), 4), "vp8": round(float(np.nanmean(vp8[live])), 4)},
    }))


if __name__ == "__main__":
    main()
