"""Face crops for the recogniser, reproducing face-api's landmark-based ("dlib") alignment.

face-api (`FaceLandmarks.alignDlib`) does not rotate: from the two eye centres and the mouth
centre it builds an axis-aligned square box, crops it (clipped at the image borders), pads the
crop to a square with zeros (centred) and resizes it bilinearly to 150x150
(tf.image.resizeBilinear, alignCorners=false, halfPixelCenters=false). We do the same from the
MediaPipe 478-point mesh, whose eye-lid and lip points stand in for the iBUG-68 ones.

`mode="similarity"` additionally removes the head roll (rotates so the eyes are level) with the
same scale and box; it is offered because dlib's own training chips were roll-aligned.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import cv2
import numpy as np

CROP_SIZE = 150
# face-api constants (FaceLandmarks): box size = eye-to-mouth distance / 0.45, the reference
# point (mean of the three centres) sits at 0.5 of the width and 0.43 of the height.
_EYE_MOUTH_TO_SIZE = 0.45
_REF_X = 0.5
_REF_Y = 0.43

# MediaPipe mesh indices standing in for iBUG-68: each eye's six lid points (68: 36-41, 42-47),
# the mouth's 12 outer + 8 inner lip points (68: 48-67). Only their centres are used.
MP_RIGHT_EYE = (33, 160, 158, 133, 153, 144)      # subject's right eye = image left
MP_LEFT_EYE = (362, 385, 387, 263, 373, 380)
MP_MOUTH = (61, 40, 37, 0, 267, 270, 291, 321, 314, 17, 84, 91,   # outer lip
            78, 81, 13, 311, 308, 402, 14, 178)                   # inner lip

AlignMode = Literal["faceapi", "similarity"]


@dataclass(frozen=True)
class RefPoints:
    """Centres (pixels, x,y) of the image-left eye, the image-right eye and the mouth."""

    eye_a: np.ndarray
    eye_b: np.ndarray
    mouth: np.ndarray


def ref_points_from_mediapipe(landmarks: np.ndarray, width: int, height: int) -> RefPoints:
    """landmarks: (478,3) or (468,3) MediaPipe points, x,y normalised to the image."""
    lm = np.asarray(landmarks, dtype=np.float64)
    if lm.ndim != 2 or lm.shape[0] < 468 or lm.shape[1] < 2:
        raise ValueError(f"expected (478,3) MediaPipe landmarks, got {lm.shape}")
    px = lm[:, :2] * np.array([width, height], dtype=np.float64)
    return RefPoints(_js_centre(px[list(MP_RIGHT_EYE)]), _js_centre(px[list(MP_LEFT_EYE)]),
                     _js_centre(px[list(MP_MOUTH)]))


def _js_centre(points: np.ndarray) -> np.ndarray:
    """face-api's getCenterPoint: a left-to-right float64 sum, then one division (the order
    matters: the box is floor()ed, so a last-bit difference can move it by a pixel)."""
    sx = sy = 0.0
    for x, y in points.tolist():
        sx += x
        sy += y
    return np.array([sx / len(points), sy / len(points)])


def ref_points_from_ibug68(points: np.ndarray) -> RefPoints:
    """points: (68,2) pixel positions in iBUG-68 order (face-api's FaceLandmarks68)."""
    p = np.asarray(points, dtype=np.float64)
    if p.shape != (68, 2):
        raise ValueError(f"expected (68,2) landmarks, got {p.shape}")
    return RefPoints(_js_centre(p[36:42]), _js_centre(p[42:48]), _js_centre(p[48:68]))


def _eye_mouth_distance(ref: RefPoints) -> float:
    def dist(p: np.ndarray) -> float:
        dx, dy = float(ref.mouth[0] - p[0]), float(ref.mouth[1] - p[1])
        return math.sqrt(dx * dx + dy * dy)
    return (dist(ref.eye_a) + dist(ref.eye_b)) / 2


def faceapi_box(ref: RefPoints, width: int, height: int,
                landmark_dims: tuple[int, int] | None = None) -> tuple[int, int, int, int]:
    """face-api's alignDlib box followed by clipAtImageBorders: (x, y, w, h) integer pixels.

    landmark_dims: face-api's `min(size, imageWidth + x)` uses the landmarks' own image size,
    which after detectSingleFace is the (floored) detection box, not the frame; pass it only to
    reproduce face-api's full pipeline exactly. By default the frame's size is used.
    """
    size = math.floor(_eye_mouth_distance(ref) / _EYE_MOUTH_TO_SIZE)
    centre = _js_centre(np.stack([ref.eye_a, ref.eye_b, ref.mouth]))
    x = math.floor(max(0.0, centre[0] - _REF_X * size))
    y = math.floor(max(0.0, centre[1] - _REF_Y * size))
    lw, lh = landmark_dims if landmark_dims is not None else (width, height)
    w = min(size, lw + x)
    h = min(size, lh + y)
    # clipAtImageBorders
    w = min(w, width - x)
    h = min(h, height - y)
    return x, y, int(w), int(h)


def pad_to_square(img: np.ndarray) -> np.ndarray:
    """face-api's padToSquare(isCenterImage=true): zeros, round(diff/2) after, the rest before."""
    h, w = img.shape[:2]
    if h == w:
        return img.astype(np.float32)
    diff = abs(h - w)
    after = math.floor(diff * 0.5 + 0.5)  # JS Math.round
    before = diff - after
    pads = ((0, 0), (before, after), (0, 0)) if h > w else ((before, after), (0, 0), (0, 0))
    return np.pad(img.astype(np.float32), pads)


def resize_bilinear_legacy(img: np.ndarray, size: int) -> np.ndarray:
    """tf.image.resizeBilinear(alignCorners=false, halfPixelCenters=false) as tfjs' CPU kernel."""
    in_h, in_w = img.shape[:2]
    if in_h == size and in_w == size:
        return img.astype(np.float32)
    src = img.astype(np.float64)  # JS arithmetic is float64; only the result is float32
    ys = np.arange(size, dtype=np.float64) * (in_h / size)
    xs = np.arange(size, dtype=np.float64) * (in_w / size)
    y0 = np.floor(ys).astype(np.int64)
    x0 = np.floor(xs).astype(np.int64)
    y1 = np.minimum(in_h - 1, np.ceil(ys).astype(np.int64))
    x1 = np.minimum(in_w - 1, np.ceil(xs).astype(np.int64))
    fy = (ys - y0)[:, None, None]
    fx = (xs - x0)[None, :, None]
    top_l, top_r = src[y0][:, x0], src[y0][:, x1]
    bot_l, bot_r = src[y1][:, x0], src[y1][:, x1]
    top = top_l + (top_r - top_l) * fx
    bot = bot_l + (bot_r - bot_l) * fx
    return (top + (bot - top) * fy).astype(np.float32)


def prepare_crop(crop: np.ndarray) -> np.ndarray:
    """A face crop of any size -> the (150,150,3) float32 tensor face-api feeds its network."""
    if crop.ndim != 3 or crop.shape[2] != 3 or min(crop.shape[:2]) < 1:
        raise ValueError(f"expected an HxWx3 RGB crop, got {crop.shape}")
    return resize_bilinear_legacy(pad_to_square(crop), CROP_SIZE)


def align_face(image: np.ndarray, ref: RefPoints, mode: AlignMode = "faceapi") -> np.ndarray:
    """The (150,150,3) float32 network input for one face of an RGB uint8 frame."""
    height, width = image.shape[:2]
    if mode == "faceapi":
        x, y, w, h = faceapi_box(ref, width, height)
        if w < 1 or h < 1:
            raise ValueError("the face box lies outside the image")
        return prepare_crop(image[y:y + h, x:x + w])
    if mode == "similarity":
        return _roll_aligned(image, ref)
    raise ValueError(f"unknown alignment mode {mode!r}")


def _roll_aligned(image: np.ndarray, ref: RefPoints) -> np.ndarray:
    """face-api's box, rotated about the reference point so that the eye line is horizontal."""
    size = _eye_mouth_distance(ref) / _EYE_MOUTH_TO_SIZE
    centre = _js_centre(np.stack([ref.eye_a, ref.eye_b, ref.mouth]))
    eyes = ref.eye_b - ref.eye_a
    angle = math.atan2(eyes[1], eyes[0])
    cos, sin = math.cos(angle), math.sin(angle)
    scale = size / CROP_SIZE
    # Output pixel (u,v) -> box coords (u*scale - 0.5*size, v*scale - 0.43*size) around `centre`,
    # rotated by the roll angle into the image.
    rot = np.array([[cos, -sin], [sin, cos]]) * scale
    offset = centre - rot @ np.array([_REF_X * CROP_SIZE, _REF_Y * CROP_SIZE])
    to_image = np.hstack([rot, offset[:, None]])
    return cv2.warpAffine(image.astype(np.float32), to_image, (CROP_SIZE, CROP_SIZE),
                          flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=0)
