"""Onboarding sources: decode a portrait or clip upright, and check it shows exactly one usable face.

`load_source(path)` -> `Source` (frames upright: EXIF orientation of photos and the display matrix
of phone videos applied); `check_faces(source, extractor)` -> `FaceCheck` on the first usable frame.
Both raise `SourceError(code, message)` with a `trainingErrorCodeSchema` code and a message meant for
the user. The same code runs in `check_source` (upload endpoint) and at the start of `train`.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

from ..files import sha256_file

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".bmp"}
MAX_CLIP_S = 120.0  # longer uploads are refused
TRAIN_CLIP_S = 30.0  # training reads at most this much of a clip
MIN_SIDE_PX = 128
MIN_FACE_PX = 80  # face box width in upright pixels
SECOND_FACE_SCORE = 0.6  # a second detection this confident ...
SECOND_FACE_REL = 0.35  # ... and at least this wide relative to the main face counts as another person


class SourceError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


@dataclass
class Source:
    path: Path
    kind: str  # 'portrait' | 'clip'
    frames: np.ndarray  # (T,H,W,3) RGB uint8, upright
    fps: float
    rotation: int  # degrees clockwise applied to make it upright
    duration_s: float | None
    total_frames: int  # in the file (a clip may be longer than what was read)
    sha256: str

    @property
    def width(self) -> int:
        return int(self.frames.shape[2])

    @property
    def height(self) -> int:
        return int(self.frames.shape[1])


@dataclass
class FaceCheck:
    frame_index: int
    box_px: tuple[float, float, float, float]  # x, y, width, height in upright pixels

    def as_dict(self) -> dict:
        x, y, w, h = self.box_px
        return {"x": round(x, 1), "y": round(y, 1), "width": round(w, 1), "height": round(h, 1)}


_EXIF_ROTATION = {1: 0, 2: 0, 3: 180, 4: 180, 5: 90, 6: 90, 7: 270, 8: 270}


def _load_image(path: Path) -> tuple[np.ndarray, int]:
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            orientation = int(im.getexif().get(0x0112, 1) or 1)
            im = ImageOps.exif_transpose(im)
            rgb = np.asarray(im.convert("RGB"), np.uint8).copy()
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as e:
        raise SourceError("UNREADABLE_INPUT", f"{path.name} could not be read as an image ({type(e).__name__}).") from e
    return rgb, _EXIF_ROTATION.get(orientation, 0)


def _probe_video(path: Path) -> dict:
    out = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
                          "stream=width,height,r_frame_rate,nb_frames,duration:stream_tags=rotate:"
                          "stream_side_data=rotation:format=duration", "-of", "json", str(path)],
                         capture_output=True, text=True)
    if out.returncode != 0:
        raise SourceError("UNREADABLE_INPUT", f"{path.name} could not be read as a video or image.")
    info = json.loads(out.stdout or "{}")
    streams = info.get("streams") or []
    if not streams:
        raise SourceError("UNREADABLE_INPUT", f"{path.name} contains no video stream.")
    s = streams[0]
    rot = 0
    for sd in s.get("side_data_list") or []:
        if "rotation" in sd:
            rot = int(round(-float(sd["rotation"]))) % 360  # display matrix: counter-clockwise
    if not rot and "rotate" in (s.get("tags") or {}):
        rot = int(s["tags"]["rotate"]) % 360
    dur = s.get("duration") or (info.get("format") or {}).get("duration")
    return {"width": int(s["width"]), "height": int(s["height"]),
            "fps": float(Fraction(s.get("r_frame_rate") or "25/1")) or 25.0,
            "frames": int(s["nb_frames"]) if str(s.get("nb_frames", "")).isdigit() else None,
            "duration": float(dur) if dur not in (None, "N/A") else None, "rotation": rot}


def _read_video(path: Path, width: int, height: int, max_frames: int | None) -> np.ndarray:
    """Frames as (T,H,W,3) RGB uint8; ffmpeg applies the display rotation (so width/height are upright)."""
    cmd = ["ffmpeg", "-v", "error", "-nostdin", "-i", str(path), "-map", "0:v:0", "-vsync", "passthrough",
           "-f", "rawvideo", "-pix_fmt", "rgb24"]
    if max_frames is not None:
        cmd += ["-frames:v", str(max_frames)]
    out = subprocess.run(cmd + ["-"], capture_output=True)
    size = width * height * 3
    n = len(out.stdout) // size
    if n == 0:
        raise SourceError("UNREADABLE_INPUT", f"{path.name}: no video frames could be decoded.")
    return np.frombuffer(out.stdout[: n * size], np.uint8).reshape(n, height, width, 3)


def load_source(path: str | Path, max_seconds: float = TRAIN_CLIP_S) -> Source:
    """Decodes a portrait or clip upright. Raises SourceError (UNREADABLE_INPUT, UNSUPPORTED_INPUT)."""
    path = Path(path)
    if not path.is_file():
        raise SourceError("UNREADABLE_INPUT", f"{path.name} does not exist or is not a file.")
    if path.stat().st_size == 0:
        raise SourceError("UNREADABLE_INPUT", f"{path.name} is empty.")
    sha = sha256_file(path)
    if path.suffix.lower() in IMAGE_SUFFIXES:
        rgb, rot = _load_image(path)
        src = Source(path, "portrait", rgb[None], 25.0, rot, None, 1, sha)
    else:
        info = _probe_video(path)
        w, h = info["width"], info["height"]
        if info["rotation"] in (90, 270):
            w, h = h, w
        dur = info["duration"]
        if dur is not None and dur > MAX_CLIP_S:
            raise SourceError("UNSUPPORTED_INPUT", f"{path.name} is {dur:.0f} s long; clips may be at most {MAX_CLIP_S:.0f} s.")
        max_frames = int(np.ceil(max_seconds * info["fps"]))
        frames = _read_video(path, w, h, max_frames)
        total = info["frames"] or len(frames)
        kind = "clip" if total > 1 else "portrait"
        src = Source(path, kind, frames, info["fps"], info["rotation"], dur, total, sha)
    if min(src.width, src.height) < MIN_SIDE_PX:
        raise SourceError("UNSUPPORTED_INPUT",
                          f"{path.name} is {src.width}x{src.height}; the shorter side must be at least {MIN_SIDE_PX} px.")
    return src


def check_faces(source: Source, extractor, probe_frames: int = 5) -> FaceCheck:
    """Exactly one face, large enough, on the first usable frame (checked on up to `probe_frames`
    frames spread over a clip). Raises SourceError (NO_FACE, MULTIPLE_FACES, FACE_TOO_SMALL)."""
    t = len(source.frames)
    idx = sorted(set(np.linspace(0, t - 1, min(probe_frames, t)).round().astype(int).tolist()))
    first: FaceCheck | None = None
    w, h = source.width, source.height
    for i in idx:
        dets = extractor.detect_faces(source.frames[i])
        if not dets:
            continue
        boxes = [np.array(d.box) * np.array([w, h, w, h]) for d in dets]
        main = max(range(len(dets)), key=lambda k: boxes[k][2])
        others = [k for k in range(len(dets)) if k != main and dets[k].score >= SECOND_FACE_SCORE
                  and boxes[k][2] >= SECOND_FACE_REL * boxes[main][2]]
        if others:
            where = "the portrait" if source.kind == "portrait" else f"frame {i} of the clip"
            raise SourceError("MULTIPLE_FACES",
                              f"Found {len(others) + 1} faces in {where}; the source must show exactly one person.")
        if first is None:
            b = boxes[main]
            first = FaceCheck(int(i), (float(b[0]), float(b[1]), float(b[2]), float(b[3])))
    if first is None:
        what = "portrait" if source.kind == "portrait" else "clip"
        raise SourceError("NO_FACE", f"No face was found in the {what} {source.path.name}.")
    if first.box_px[2] < MIN_FACE_PX:
        raise SourceError("FACE_TOO_SMALL", f"The face is {first.box_px[2]:.0f} px wide; it must be at least "
                          f"{MIN_FACE_PX} px wide (move closer or use a larger image).")
    return first


def result_line(source: Source, face: FaceCheck) -> dict:
    """The ok line of sourceCheckResultSchema."""
    return {"ok": True, "kind": source.kind, "width": source.width, "height": source.height,
            "durationS": None if source.duration_s is None else round(source.duration_s, 3),
            "frames": int(source.total_frames), "faceBox": face.as_dict(), "rotation": int(source.rotation)}
