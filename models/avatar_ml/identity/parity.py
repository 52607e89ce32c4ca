"""Verifies the PyTorch port against the real face-api running in Node, and prints the figures.

    PYTHONPATH=models models/.venv/bin/python -m avatar_ml.identity.parity [--frames 2]

1. network: the same face crops through face-api's computeFaceDescriptor (tfjs cpu backend, the
   float32 reference) and through the port -> max |difference| per descriptor element.
2. pipeline: face-api's full detectSingleFace + 68 landmarks + alignment + descriptor on whole
   frames (tfjs wasm backend: the cpu one takes ~25 s per SSD detection) vs the port fed face-api's
   own 68 landmarks -> same crop box?, max |difference|.
3. MediaPipe alignment: the port fed MediaPipe's 478 landmarks instead (what the evaluation harness
   does) -> overlap of its crop box with face-api's, and the distance of its descriptor to
   face-api's full-pipeline one (0 would be identical; same-person distances are ~0.3).
Speed: descriptors per second of the port vs face-api (wasm backend) on the same crops.
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

import numpy as np
import torch

from avatar_ml.landmarks.extractor import FaceLandmarkExtractor

from .alignment import faceapi_box, ref_points_from_ibug68, ref_points_from_mediapipe
from .clip_report import DEFAULT_CLIPS, MEDIA_DIR
from .embedder import IdentityEmbedder, identity_distance
from .faceapi_reference import FaceApiFace, run_faceapi
from .samples import sample_frames


def _iou(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    iw = max(0, min(ax + aw, bx + bw) - max(ax, bx))
    ih = max(0, min(ay + ah, by + bh) - max(ay, by))
    inter = iw * ih
    return inter / float(aw * ah + bw * bh - inter)


def _detection_dims(face: FaceApiFace, frame: np.ndarray) -> tuple[int, int]:
    """The size face-api gives the landmarks' image: the detection box clipped and floored."""
    x, y, w, h = face.detection_box
    cx, cy = max(x, 0.0), max(y, 0.0)
    cw = min(x + w - cx, frame.shape[1] - cx)
    ch = min(y + h - cy, frame.shape[0] - cy)
    return math.floor(cw), math.floor(ch)


def _best_of(runs: int, fn) -> float:
    best = math.inf
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--media", type=Path, default=MEDIA_DIR)
    parser.add_argument("--clips", nargs="+", default=list(DEFAULT_CLIPS))
    parser.add_argument("--frames", type=int, default=2, help="frames per clip")
    args = parser.parse_args(argv)

    frames, labels = [], []
    for clip in args.clips:
        for index, frame in sample_frames(args.media / clip, args.frames):
            frames.append(frame)
            labels.append(f"{clip}#{index}")

    t0 = time.perf_counter()
    faces: list[FaceApiFace | None] = run_faceapi(frames, "detect", backend="wasm")  # type: ignore[assignment]
    print(f"face-api detect+landmarks+descriptor (wasm) on {len(frames)} frames: "
          f"{time.perf_counter() - t0:.1f} s including Node start-up")
    found = [(lab, fr, fa) for lab, fr, fa in zip(labels, frames, faces) if fa is not None]
    missing = [lab for lab, fa in zip(labels, faces) if fa is None]
    if missing:
        print(f"face-api found no face in: {', '.join(missing)}")
    if not found:
        raise SystemExit("FAIL: face-api found no face in any frame: nothing to compare")

    port = IdentityEmbedder(align="faceapi")  # onnxruntime
    port_torch = IdentityEmbedder(align="faceapi", runtime="torch")
    extractor = FaceLandmarkExtractor()

    # 1. network parity on face-api's own crops, cpu backend.
    crops = []
    for _, frame, face in found:
        x, y, w, h = face.aligned_box
        crops.append(frame[y:y + h, x:x + w])
    ref_desc = np.stack(run_faceapi(crops, "descriptor", backend="cpu"))  # type: ignore[arg-type]
    net_diff = np.abs(port.embed(crops) - ref_desc).max(axis=1)
    torch_diff = np.abs(port_torch.embed(crops) - ref_desc).max(axis=1)

    # 2. full pipeline from face-api's landmarks: our box and crop code, face-api's points.
    boxes = [faceapi_box(ref_points_from_ibug68(fa.landmarks68), fr.shape[1], fr.shape[0],
                         landmark_dims=_detection_dims(fa, fr)) for _, fr, fa in found]
    port_68 = port.embed([fr[y:y + h, x:x + w] for (_, fr, _), (x, y, w, h) in zip(found, boxes)])
    pipe_diff = np.abs(port_68 - np.stack([fa.descriptor for *_, fa in found])).max(axis=1)
    same_box = [box == fa.aligned_box for box, (*_, fa) in zip(boxes, found)]

    # 3. MediaPipe landmarks instead of face-api's.
    print(f"\n{'frame':28s} {'net max|d|':>10s} {'pipe max|d|':>11s} {'box':>4s} "
          f"{'mp IoU':>7s} {'mp dist':>8s} {'mp-sim dist':>11s}")
    sim = IdentityEmbedder(align="similarity")
    mp_ious, mp_dists, sim_dists = [], [], []
    for i, (label, frame, face) in enumerate(found):
        mp = extractor.detect(frame)
        if mp is None:
            print(f"{label:28s} {net_diff[i]:10.2e} {pipe_diff[i]:11.2e} {str(same_box[i]):>4s}  "
                  "(MediaPipe found no face)")
            continue
        h, w = frame.shape[:2]
        mp_box = faceapi_box(ref_points_from_mediapipe(mp.landmarks, w, h), w, h)
        mp_ious.append(_iou(mp_box, face.aligned_box))
        mp_dists.append(identity_distance(port.embed([frame], [mp.landmarks])[0], face.descriptor))
        sim_dists.append(identity_distance(sim.embed([frame], [mp.landmarks])[0], face.descriptor))
        print(f"{label:28s} {net_diff[i]:10.2e} {pipe_diff[i]:11.2e} {str(same_box[i]):>4s} "
              f"{mp_ious[-1]:7.3f} {mp_dists[-1]:8.3f} {sim_dists[-1]:11.3f}")

    print(f"\nnetwork parity (port vs face-api tfjs-cpu, same crops, {len(net_diff)} descriptors): "
          f"max |d| = {net_diff.max():.2e} (onnxruntime), {torch_diff.max():.2e} (torch)")
    print(f"pipeline parity (port on face-api's 68 landmarks vs face-api wasm): max |d| = "
          f"{pipe_diff.max():.2e}; identical crop box in {sum(same_box)}/{len(same_box)}")
    if mp_ious:
        print(f"MediaPipe alignment vs face-api's: box IoU mean {np.mean(mp_ious):.3f} (min "
              f"{np.min(mp_ious):.3f}); descriptor distance to face-api's mean {np.mean(mp_dists):.3f} "
              f"(max {np.max(mp_dists):.3f}); roll-corrected ('similarity') mean "
              f"{np.mean(sim_dists):.3f} (max {np.max(sim_dists):.3f})")

    # Speed on the same crops, best of 3: the port in-process vs face-api (wasm) per descriptor;
    # face-api's Node start-up is measured with one crop and subtracted.
    batch = crops * max(1, 32 // len(crops))
    per = {}
    for label, emb in (("onnxruntime", port), ("torch", port_torch)):
        emb.embed(batch[:2])
        per[label] = _best_of(3, lambda: emb.embed(batch)) / len(batch)
    startup_s = _best_of(2, lambda: run_faceapi(batch[:1], "descriptor", backend="wasm"))
    faceapi_total = _best_of(2, lambda: run_faceapi(batch, "descriptor", backend="wasm"))
    faceapi_s = max(faceapi_total - startup_s, 1e-9) / max(len(batch) - 1, 1)
    print(f"speed (best of runs, {len(batch)} crops, crop preparation included): port onnxruntime "
          f"{1000 * per['onnxruntime']:.1f} ms/descriptor, port torch ({torch.get_num_threads()} "
          f"threads) {1000 * per['torch']:.1f} ms; face-api tfjs-wasm {1000 * faceapi_s:.1f} ms "
          f"plus {startup_s:.1f} s Node start-up per call. Baseline face-api wasm / port "
          f"onnxruntime = {faceapi_s / per['onnxruntime']:.2f}x")

if __name__ == "__main__":
    main()
