"""Diagnostic: does retargeting a driver onto a target keep the target's lips apart, and does the
retargeted mouth opening follow the driver's own? For every motion-library video clip and both retarget
neutrals ("first", "closed-mouth"; `landmarks.retarget.driver_neutral`).

    PYTHONPATH=models models/.venv/bin/python -m avatar_ml.eval.retarget_mouth --target /tmp/sr/s0_sq.png

Prints one JSON line per (clip, neutral): the neutral frame, the driver's opening there, the share of
retargeted frames whose lips are pushed through each other (`signed_lip_gap` < -0.02), and the Pearson
correlation of the retargeted opening (`teacher.topology.mouth_opening`, what the harness's `mouth_corr`
uses as its reference) with the driver's own opening. Exit 1 with a message if the target has no face.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np


def signed_lip_gap(landmarks: np.ndarray) -> np.ndarray:
    """(…,478,>=2) landmarks -> (…) lower minus upper inner lip (14 - 13) along the face's downward axis
    (perpendicular to the inner mouth corners 78-308, towards the chin 152), over the mouth width:
    negative when the lower lip lies above the upper one."""
    xy = np.asarray(landmarks)[..., :2]
    e = xy[..., 308, :] - xy[..., 78, :]
    w = np.maximum(np.linalg.norm(e, axis=-1), 1e-9)
    down = np.stack([-e[..., 1], e[..., 0]], -1) / w[..., None]
    centre = (xy[..., 308, :] + xy[..., 78, :]) / 2
    down = down * np.sign(((xy[..., 152, :] - centre) * down).sum(-1))[..., None]
    return ((xy[..., 14, :] - xy[..., 13, :]) * down).sum(-1) / w


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m avatar_ml.eval.retarget_mouth", description=__doc__.split("\n\n")[0])
    p.add_argument("--target", required=True, type=Path, help="target portrait (png/jpg) or clip (its frame 0)")
    a = p.parse_args(argv)
    from ..landmarks.extractor import FaceLandmarkExtractor
    from ..landmarks.retarget import NEUTRAL_CHOICES, driver_neutral, retarget
    from ..landmarks.track_io import load_track
    from ..student.data import MOTION_LIBRARY
    from ..student.source import load_source
    from ..teacher.topology import mouth_opening

    src = load_source(a.target)
    face = FaceLandmarkExtractor(threads=1).detect(src.frames[0])
    if face is None:
        print(json.dumps({"error": f"no face in {a.target}"}))
        return 1
    index = json.loads((MOTION_LIBRARY / "index.json").read_text())
    for c in index["clips"]:
        if c["kind"] != "video":
            continue
        track = load_track(MOTION_LIBRARY / c["file"])
        own = mouth_opening(track.landmarks)
        for choice in NEUTRAL_CHOICES:
            n = driver_neutral(track, choice)
            rt = retarget(track, n, face.landmarks, (src.width, src.height))
            ok = rt.valid & np.all(np.isfinite(rt.landmarks), axis=(1, 2))
            lm = rt.landmarks[ok]
            print(json.dumps({"clip": c["clip"], "neutral": choice, "neutral_frame": n,
                              "driver_opening_at_neutral": round(float(own[n]), 3),
                              "target_opening": round(float(mouth_opening(face.landmarks)), 3),
                              "frames": int(ok.sum()),
                              "crossed_share": round(float((signed_lip_gap(lm) < -0.02).mean()), 3),
                              "opening_corr_with_driver": round(float(np.corrcoef(mouth_opening(lm), own[ok])[0, 1]), 3)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
