"""Video and image frames in and out through the ffmpeg binary (RGB uint8 arrays, h264 yuv420p mp4 out).

Every frame comes out the way a player shows it: a display-matrix rotation (90/180/270, what phones
write) is applied by ffmpeg's autorotation, a non-square sample aspect ratio is resampled to square
pixels (the wider side kept: SAR 4:3 at 384x384 gives 512x384), and a still image is turned by its
EXIF orientation. Frames are piped as PAM images, each carrying its own width and height, so a
frame is never reshaped with dimensions other than the ones ffmpeg actually produced.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import IO, Iterable, Iterator

import numpy as np


class VideoError(RuntimeError):
    pass


# Square pixels out of any sample aspect ratio: the side the SAR stretches is upsampled, never the
# other one shrunk. ffmpeg's `sar` is 1 when the stream does not say. Applied after autorotation
# (ffmpeg's transpose inverts the SAR, so this sees the displayed one).
SQUARE_PIXELS_FILTER = ("scale=w='if(gte(sar,1),round(iw*sar),iw)':h='if(gte(sar,1),ih,round(ih/sar))'"
                        ":flags=bicubic,setsar=1")

# The EXIF orientation tag (values 1..8: how to turn the stored pixels upright).
_EXIF_ORIENTATION = 0x0112


@dataclass(frozen=True)
class VideoInfo:
    """A clip's first video stream as displayed: `width`/`height` after rotation and square pixels.

    `coded_width`/`coded_height` are the stored sizes, `rotation` the clockwise display rotation in
    degrees (0, 90, 180 or 270; for a still image, the one its EXIF orientation implies),
    `sample_aspect_ratio` the stored pixel aspect (1.0 when square or unknown), `frames` the
    container's frame count when it says, `is_image` for a still image (JPEG, PNG, WebP, ...)."""
    width: int
    height: int
    fps: float
    frames: int | None
    coded_width: int = 0
    coded_height: int = 0
    rotation: int = 0
    sample_aspect_ratio: float = 1.0
    is_image: bool = False


def _c_round(x: float) -> int:
    """Round half away from zero, like the C `round` that ffmpeg's expressions use."""
    return int(np.floor(x + 0.5)) if x >= 0 else -int(np.floor(-x + 0.5))


def display_size(coded_width: int, coded_height: int, rotation: int, sample_aspect_ratio: float) -> tuple[int, int]:
    """(width, height) of a frame once rotated by `rotation` degrees and resampled to square pixels,
    matching SQUARE_PIXELS_FILTER after ffmpeg's autorotation."""
    w, h, sar = coded_width, coded_height, sample_aspect_ratio
    if rotation % 180 == 90:
        w, h, sar = h, w, 1.0 / sar
    if sar >= 1:
        return _c_round(w * sar), h
    return w, _c_round(h / sar)


def _rotation_of(stream: dict) -> int:
    """Clockwise display rotation of a stream from its display matrix (or legacy `rotate` tag)."""
    for side in stream.get("side_data_list") or []:
        if "rotation" in side:
            # ffprobe prints the display matrix angle counter-clockwise; players turn by its opposite.
            return int(round(-float(side["rotation"]))) % 360
    tag = (stream.get("tags") or {}).get("rotate")
    return int(tag) % 360 if tag and str(tag).lstrip("-").isdigit() else 0


def _is_image_format(format_name: str) -> bool:
    return format_name == "image2" or format_name.endswith("_pipe")


def exif_orientation(path: str | Path) -> int:
    """The EXIF orientation tag of an image file (1..8), 1 when it has none or is unreadable."""
    from PIL import Image

    try:
        with Image.open(path) as im:
            value = im.getexif().get(_EXIF_ORIENTATION, 1)
    except Exception:  # noqa: BLE001 - not an image PIL knows, or no EXIF: nothing to turn
        return 1
    return int(value) if isinstance(value, int) and 1 <= value <= 8 else 1


def apply_exif_orientation(image: np.ndarray, orientation: int) -> np.ndarray:
    """Turns stored pixels (H,W,...) upright for an EXIF orientation 1..8 (TIFF/EXIF 2.3 table)."""
    if orientation == 2:
        return image[:, ::-1].copy()
    if orientation == 3:
        return image[::-1, ::-1].copy()
    if orientation == 4:
        return image[::-1].copy()
    if orientation == 5:
        return np.ascontiguousarray(image.swapaxes(0, 1))
    if orientation == 6:
        return np.ascontiguousarray(np.rot90(image, -1))
    if orientation == 7:
        return np.ascontiguousarray(image.swapaxes(0, 1)[::-1, ::-1])
    if orientation == 8:
        return np.ascontiguousarray(np.rot90(image, 1))
    return image


def probe(path: str | Path) -> VideoInfo:
    """The first video stream of a clip or image, with its displayed size (see VideoInfo).
    Raises VideoError when ffprobe cannot read it or it has no video stream."""
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
         "stream=width,height,r_frame_rate,nb_frames,sample_aspect_ratio:stream_tags=rotate"
         ":stream_side_data:format=format_name", "-of", "json", str(path)],
        capture_output=True, text=True)
    if out.returncode != 0:
        raise VideoError(f"ffprobe failed on {path}: {out.stderr.strip()}")
    doc = json.loads(out.stdout)
    streams = doc.get("streams") or []
    if not streams:
        raise VideoError(f"{path}: no video stream")
    s = streams[0]
    coded_w, coded_h = int(s.get("width") or 0), int(s.get("height") or 0)
    if coded_w <= 0 or coded_h <= 0:
        raise VideoError(f"{path}: degenerate frame size {coded_w}x{coded_h}")
    is_image = _is_image_format((doc.get("format") or {}).get("format_name", ""))
    sar = _parse_ratio(s.get("sample_aspect_ratio"))
    if is_image:
        rotation = {6: 90, 3: 180, 8: 270, 5: 90, 7: 270}.get(exif_orientation(path), 0)
        width, height = (coded_h, coded_w) if rotation % 180 == 90 else (coded_w, coded_h)
    else:
        rotation = _rotation_of(s)
        width, height = display_size(coded_w, coded_h, rotation, sar)
    nb = s.get("nb_frames")
    return VideoInfo(width, height, float(Fraction(s["r_frame_rate"])) if s.get("r_frame_rate", "0/0") != "0/0" else 0.0,
                     1 if is_image else (int(nb) if nb and str(nb).isdigit() else None),
                     coded_w, coded_h, rotation, sar, is_image)


def _parse_ratio(text: str | None) -> float:
    """'4:3' → 1.333...; missing, '0:1' or 'N/A' (unknown) → 1.0 (square)."""
    try:
        num, den = (int(v) for v in str(text).split(":"))
    except ValueError:
        return 1.0
    return num / den if num > 0 and den > 0 else 1.0


def _read_pam(stream: IO[bytes]) -> np.ndarray | None:
    """One PAM image (P7 header, then WIDTH*HEIGHT*DEPTH bytes) from a pipe, or None at its end."""
    magic = stream.readline()
    if not magic:
        return None
    if magic != b"P7\n":
        raise VideoError(f"unexpected frame header {magic[:16]!r} from ffmpeg")
    fields: dict[str, str] = {}
    while True:
        line = stream.readline()
        if not line:
            return None
        if line == b"ENDHDR\n":
            break
        key, _, value = line.decode("ascii").strip().partition(" ")
        fields[key] = value
    width, height, depth = int(fields["WIDTH"]), int(fields["HEIGHT"]), int(fields["DEPTH"])
    size = width * height * depth
    buf = stream.read(size)
    if len(buf) < size:
        return None
    return np.frombuffer(buf, np.uint8).reshape(height, width, depth)


def iter_frames(path: str | Path, max_frames: int | None = None, select: str | None = None) -> Iterator[np.ndarray]:
    """Yields decoded frames as (H,W,3) RGB uint8, upright and with square pixels, in order, every
    frame (no frame-rate conversion). `select` is an ffmpeg select expression keeping only some
    frames (e.g. `eq(n\\,0)+eq(n\\,9)`). A still image gives its one frame, turned by its EXIF
    orientation (the same pixels as read_image). Raises VideoError when ffmpeg fails."""
    info = probe(path)
    if info.is_image:
        if max_frames != 0:
            yield read_image(path)
        return
    vf = ([f"select={select}"] if select else []) + [SQUARE_PIXELS_FILTER]
    cmd = ["ffmpeg", "-v", "error", "-nostdin", "-i", str(path), "-map", "0:v:0",
           "-vf", ",".join(vf), "-vsync", "passthrough", "-f", "image2pipe", "-c:v", "pam", "-pix_fmt", "rgb24"]
    if max_frames is not None:
        cmd += ["-frames:v", str(max_frames)]
    proc = subprocess.Popen(cmd + ["-"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    finished = False
    try:
        assert proc.stdout is not None
        while (frame := _read_pam(proc.stdout)) is not None:
            yield frame
        finished = True
    finally:
        if proc.poll() is None:
            proc.kill()
        rc = proc.wait()
        err = proc.stderr.read().decode(errors="replace") if proc.stderr and finished else ""
        if proc.stdout:
            proc.stdout.close()
        if proc.stderr:
            proc.stderr.close()
    if finished and rc != 0:
        raise VideoError(f"ffmpeg failed on {path}: {err.strip()[-500:]}")


def read_frames(path: str | Path, max_frames: int | None = None) -> np.ndarray:
    """All frames of a clip (or the one of an image) as (T,H,W,3) RGB uint8, as displayed."""
    frames = list(iter_frames(path, max_frames))
    if not frames:
        raise VideoError(f"{path}: no frames decoded")
    if any(f.shape != frames[0].shape for f in frames):
        raise VideoError(f"{path}: the frame size changes mid-clip ({frames[0].shape} then others)")
    return np.stack(frames)


def read_image(path: str | Path) -> np.ndarray:
    """An image file (jpg/png/webp) as (H,W,3) RGB uint8, turned upright by its EXIF orientation.
    Raises VideoError when it cannot be decoded or has no pixels."""
    import cv2

    # OpenCV's own EXIF handling covers only some formats; one explicit turn covers them all.
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION)
    if bgr is None or bgr.size == 0:
        raise VideoError(f"cannot read image {path}")
    return apply_exif_orientation(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), exif_orientation(path))


def write_video(path: str | Path, frames: Iterable[np.ndarray], fps: float, crf: int = 18) -> None:
    """Writes RGB uint8 frames (all the same size, even dimensions) as h264 yuv420p mp4."""
    it = iter(frames)
    first = next(it, None)
    if first is None:
        raise VideoError("no frames to write")
    h, w = first.shape[:2]
    cmd = ["ffmpeg", "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{w}x{h}",
           "-r", f"{fps:g}", "-i", "-", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-crf", str(crf),
           "-movflags", "+faststart", str(path)]
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdin is not None
    try:
        for frame in _chain(first, it):
            if frame.shape != first.shape or frame.dtype != np.uint8:
                raise VideoError("all frames must be uint8 with the same shape")
            proc.stdin.write(np.ascontiguousarray(frame).tobytes())
    finally:
        proc.stdin.close()
        err = proc.stderr.read().decode() if proc.stderr else ""
        rc = proc.wait()
        if proc.stderr:
            proc.stderr.close()
    if rc != 0:
        raise VideoError(f"ffmpeg failed writing {path}: {err.strip()}")


def _chain(first: np.ndarray, rest: Iterator[np.ndarray]) -> Iterator[np.ndarray]:
    yield first
    yield from rest
