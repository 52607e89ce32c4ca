"""Fit the motion codec's shape basis (shared/src/motion/basis/) from real landmark tracks.

Input: browser landmark extractions (test/tools/extract-browser-landmarks.ts, format
"browser-landmarks/v1", cached in .data/landmarks/<clip>-<sha>-all.json) of the TRAINING clips.
Held-out clips are only evaluated, never fitted.

Pipeline (mirrors shared/src/motion/MotionEncoder.ts):
  pixels P = (x*W, y*H, z*W); centre t = mean(P); scale s = RMS radius; rotation R by Procrustes
  against the mean shape M (generalised Procrustes over the training frames); canonical shape
  Q = R^T (P - t) / s.  PCA of Q - M with per-point weights (iris points weighted up: gaze
  matters and they are only 10 of 478 points).  Coefficients are quantised with one uniform step
  (reverse water-filling: the MSE-optimal allocation), components whose range needs < 1 bit are
  dropped, and the step is the smallest one that fits the bit budget.

Output: motionBasisData.ts (base64 of the binary layout read by shared/src/motion/motionBasis.ts)
and motionBasis.manifest.json (provenance, variance explained, simulated errors).

Run: models/.venv/bin/python models/motion_basis/fit_motion_basis.py
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import glob
import hashlib
import json
import os
import struct
import sys

import numpy as np

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
N_POINTS = 478
IRIS = list(range(468, 478))
# MediaPipe FACE_LANDMARKS_LIPS / LEFT_EYE / RIGHT_EYE (+ iris incl. centres), for reporting.
LIPS = [0, 13, 14, 17, 37, 39, 40, 61, 78, 80, 81, 82, 84, 87, 88, 91, 95, 146, 178, 181, 185, 191, 267, 269, 270, 291, 308, 310, 311, 312, 314, 317, 318, 321, 324, 375, 402, 405, 409, 415]
EYES = [249, 263, 362, 373, 374, 380, 381, 382, 384, 385, 386, 387, 388, 390, 398, 466, 7, 33, 133, 144, 145, 153, 154, 155, 157, 158, 159, 160, 161, 163, 173, 246] + IRIS

# Must match shared/src/motion/motionPacketLayout.ts: bytes of header + bits of pose.
HEADER_BYTES = 13
POSE_BITS = 3 * 12 + 2 * 15 + 10 + 14
MAX_COEFF_BITS = 16


def load_clip(path: str) -> tuple[str, np.ndarray]:
    with open(path) as f:
        data = json.load(f)
    assert data["format"] == "browser-landmarks/v1", path
    w, h = data["width"], data["height"]
    frames = [fr["landmarks"] for fr in data["frames"] if fr["present"]]
    p = np.asarray(frames, dtype=np.float64).reshape(-1, N_POINTS, 3)
    p = p * np.array([w, h, w])  # isotropic pixel space
    return data["clip"], p


def normalise(p: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    t = p.mean(axis=1, keepdims=True)
    c = p - t
    s = np.sqrt((c**2).sum(axis=(1, 2)) / N_POINTS)
    return c / s[:, None, None], t, s


def kabsch(x: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Rotation R (proper) minimising |R m - x|^2 for one frame (points as rows)."""
    u, _, vt = np.linalg.svd(m.T @ x)
    d = np.sign(np.linalg.det(u @ vt))
    return (u @ np.diag([1.0, 1.0, d]) @ vt).T


def canonical(x: np.ndarray, mean: np.ndarray) -> np.ndarray:
    out = np.empty_like(x)
    for i in range(len(x)):
        r = kabsch(x[i], mean)
        out[i] = x[i] @ r  # R^T x for row vectors
    return out


def crop_scale(p: np.ndarray) -> float:
    """256 / side of the per-clip crop (1.4 x median per-frame bounding square), as in the bench."""
    side = np.maximum(np.ptp(p[:, :, 0], axis=1), np.ptp(p[:, :, 1], axis=1))
    return 256.0 / (1.4 * float(np.median(side)))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--train", default="d10,d14,d18,WDA_KatieHill_000")
    ap.add_argument("--heldout", default="d12,d19")
    ap.add_argument("--landmarks-dir", default=os.path.join(REPO, ".data", "landmarks"))
    ap.add_argument("--max-packet-bytes", type=int, default=64)
    ap.add_argument("--iris-weight", type=float, default=8.0)
    ap.add_argument("--range-margin", type=float, default=1.5)
    ap.add_argument("--max-components", type=int, default=96)
    ap.add_argument("--basis-id", type=int, default=1)
    ap.add_argument("--out-dir", default=os.path.join(REPO, "shared", "src", "motion", "basis"))
    args = ap.parse_args()

    def find(name: str) -> str:
        hits = sorted(glob.glob(os.path.join(args.landmarks_dir, f"{name}-*-all.json")))
        if not hits:
            sys.exit(f"no extraction for {name}: run npx tsx test/tools/extract-browser-landmarks.ts --clip ../shared/media/{name}.mp4")
        return hits[-1]

    train = [load_clip(find(n)) for n in args.train.split(",")]
    heldout = [load_clip(find(n)) for n in args.heldout.split(",")]
    x_train = np.concatenate([normalise(p)[0] for _, p in train])

    # Generalised Procrustes: the mean shape is the fixed point of "align all, average".
    mean = x_train[0].copy()
    for _ in range(8):
        q = canonical(x_train, mean)
        mean = q.mean(axis=0)
        mean -= mean.mean(axis=0)
        mean /= np.sqrt((mean**2).sum() / N_POINTS)
    q_train = canonical(x_train, mean)

    weights = np.ones(N_POINTS)
    weights[IRIS] = args.iris_weight
    sw = np.repeat(np.sqrt(weights), 3)
    d = (q_train - mean).reshape(len(q_train), -1)
    _, sing, vt = np.linalg.svd(d * sw, full_matrices=False)
    var = sing**2
    k_max = min(args.max_components, len(var))
    comp_w = vt[:k_max]  # orthonormal in the weighted space
    basis = comp_w / sw  # decode space: Q = M + sum c_k basis_k
    proj = comp_w * sw  # encode: c_k = proj_k . (Q - M)

    def coeffs(q: np.ndarray) -> np.ndarray:
        return (q - mean).reshape(len(q), -1) @ proj.T

    c_train = coeffs(q_train)
    ranges = np.abs(c_train).max(axis=0) * args.range_margin

    budget = args.max_packet_bytes * 8 - HEADER_BYTES * 8 - POSE_BITS

    def allocation(step: float) -> np.ndarray:
        levels = 2 * ranges / step
        bits = np.ceil(np.log2(np.maximum(levels, 1.0)))
        bits[levels < 2.0] = 0  # not worth a bit: dropped
        return np.minimum(bits, MAX_COEFF_BITS).astype(int)

    lo, hi = 1e-5, 10.0
    for _ in range(60):  # bisect the smallest step whose bits fit the budget
        mid = np.sqrt(lo * hi)
        if allocation(mid).sum() <= budget:
            hi = mid
        else:
            lo = mid
    step = hi
    bits = allocation(step)
    keep = np.nonzero(bits)[0]
    # Keep the leading prefix only (the packet layout is a prefix of components).
    k = int(keep.max()) + 1 if len(keep) else 0
    bits = bits[:k]
    steps = np.full(k, step)

    def simulate(p: np.ndarray) -> dict:
        x, t, s = normalise(p)
        q = canonical(x, mean)
        c = coeffs(q)[:, :k]
        codes = np.zeros_like(c)
        for j in range(k):
            if bits[j] == 0:
                continue
            lim = 2 ** (bits[j] - 1)
            codes[:, j] = np.clip(np.round(c[:, j] / steps[j]), -lim, lim - 1)
        q_hat = mean.reshape(-1) + (codes * steps) @ basis[:k].reshape(k, -1)
        q_hat = q_hat.reshape(len(q), N_POINTS, 3)
        err_canon = q_hat - q
        # Back to pixels with the frame's own rotation (pose quantisation is small and measured by the bench).
        errs = []
        for i in range(len(q)):
            r = kabsch(x[i], mean)
            errs.append((err_canon[i] @ r.T) * s[i])
        e = np.linalg.norm(np.asarray(errs)[:, :, :2], axis=2) * crop_scale(p)
        return {
            "mean_px": round(float(e.mean()), 3),
            "p95_px": round(float(np.percentile(e, 95)), 3),
            "mouth_mean_px": round(float(e[:, LIPS].mean()), 3),
            "eyes_mean_px": round(float(e[:, EYES].mean()), 3),
        }

    sim = {name: simulate(p) for name, p in train + heldout}
    for name, r in sim.items():
        print(f"{name:24s} {'train' if name in [n for n, _ in train] else 'held-out':8s} {r}")

    # Binary layout (little-endian), read by shared/src/motion/motionBasis.ts:
    #   "MBS1", u8 basisId, u8 reserved, u16 landmarkCount, u16 componentCount K,
    #   K x (u8 bits, i8 exponent e, f32 step), 478 x f32 encoder weight, 1434 x f32 mean,
    #   K x 1434 x i16 component values (value = int * 2^e).
    blob = bytearray(b"MBS1")
    blob += struct.pack("<BBHH", args.basis_id, 0, N_POINTS, k)
    ints = []
    for j in range(k):
        peak = float(np.abs(basis[j]).max())
        e = int(np.ceil(np.log2(peak / 32767.0)))
        blob += struct.pack("<Bbf", int(bits[j]), e, float(steps[j]))
        ints.append(np.clip(np.round(basis[j] / 2.0**e), -32767, 32767).astype("<i2"))
    blob += np.asarray(weights, dtype="<f4").tobytes()
    blob += np.asarray(mean.reshape(-1), dtype="<f4").tobytes()
    for row in ints:
        blob += row.tobytes()
    digest = hashlib.sha256(bytes(blob)).hexdigest()

    os.makedirs(args.out_dir, exist_ok=True)
    b64 = base64.b64encode(bytes(blob)).decode("ascii")
    lines = [b64[i : i + 120] for i in range(0, len(b64), 120)]
    with open(os.path.join(args.out_dir, "motionBasisData.ts"), "w") as f:
        f.write("// GENERATED by models/motion_basis/fit_motion_basis.py — do not edit; provenance in motionBasis.manifest.json.\n")
        f.write(f"export const MOTION_BASIS_SHA256 = '{digest}';\n")
        f.write("export const MOTION_BASIS_BASE64 =\n")
        f.write(" +\n".join(f"  '{ln}'" for ln in lines) + ";\n")

    header_bits = HEADER_BYTES * 8 + POSE_BITS + int(bits.sum())
    packet_bytes = (header_bits + 7) // 8
    manifest = {
        "format": "motion-basis/v1",
        "basisId": args.basis_id,
        "sha256": digest,
        "bytes": len(blob),
        "createdAt": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "command": "models/.venv/bin/python models/motion_basis/fit_motion_basis.py " + " ".join(sys.argv[1:]),
        "landmarks": "browser extraction: MediaPipe @mediapipe/tasks-vision 0.10.35 face_landmarker.task, CPU, headless Chromium (test/tools/extract-browser-landmarks.ts)",
        "trainClips": [{"clip": n, "frames": int(len(p))} for n, p in train],
        "heldOutClips": [{"clip": n, "frames": int(len(p))} for n, p in heldout],
        "irisWeight": args.iris_weight,
        "components": k,
        "codedComponents": int((bits > 0).sum()),
        "coefficientBits": int(bits.sum()),
        "packetBytes": packet_bytes,
        "kbpsAt30fps": round(packet_bytes * 8 * 30 / 1000, 2),
        "quantStep": step,
        "varianceExplained": round(float(var[:k].sum() / var.sum()), 6),
        "varianceExplainedAt": {str(n): round(float(var[:n].sum() / var.sum()), 6) for n in (5, 10, 20, 40, 60) if n <= len(var)},
        "simulatedErrorsCropPx": sim,
        "simulationNote": "shape quantisation only, pose unquantised; crop = 1.4 x median bounding square per clip, scaled to 256 px. The bench (npm run bench:uplink) measures the full codec.",
    }
    with open(os.path.join(args.out_dir, "motionBasis.manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
    print(json.dumps({k2: manifest[k2] for k2 in ("components", "codedComponents", "coefficientBits", "packetBytes", "kbpsAt30fps", "varianceExplained")}))


if __name__ == "__main__":
    main()
