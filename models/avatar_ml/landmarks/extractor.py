"""Offline MediaPipe FaceLandmarker: the .task bundle's TF Lite models with MediaPipe's own glue.

Reproduces the tasks API graph (face_landmarker_graph.cc and its subgraphs) in numpy:
- face_detector.tflite (BlazeFace short range, 128x128, 896 SSD anchors): letterboxed input in
  [-1,1], box/keypoint decoding, sigmoid scores >= 0.5, weighted NMS (IoU 0.3); the ROI is the box
  scaled 1.5x, rotated so the eye keypoints are level.
- face_landmarks_detector.tflite (256x256 rotation-aligned crop in [0,1] -> 478x3 + presence):
  landmarks projected back through the ROI; presence sigmoid >= 0.5.
- VIDEO mode (`track`): the next frame's ROI comes from this frame's landmarks (eye corners 33/263
  level, bounding box squared on its long side and scaled 1.5x); the detector only runs when
  tracking is lost, like MediaPipe's stream mode.
- The facial transformation matrix from `geometry.GeometryPipeline`.
Landmarks come out in the browser's coordinates: x, y normalized to the image, z with x's scale.
"""

from __future__ import annotations

import math
import os
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import cv2
import numpy as np

from .canonical_mesh import DEFAULT_TASK_PATH, load_canonical_mesh
from .geometry import GeometryPipeline
from .smoothing import OneEuroLandmarkSmoother
from .track_io import LandmarkTrack

EXTRACTOR_VERSION = "mp-face-landmarker-py/1"
DETECTOR_NAME = "face_detector.tflite"
LANDMARKER_NAME = "face_landmarks_detector.tflite"
DET_SIZE = 128
LM_SIZE = 256
N_LANDMARKS = 478
# The browser graph never sees timestamp 0 (its first frame already primes the smoother); an offset of
# 1 us reproduces that, matching the browser to ~0.02 px on every frame including the second.
TIMESTAMP_OFFSET_US = 1


@dataclass(frozen=True)
class Rect:
    """MediaPipe NormalizedRect: centre and size normalized to the image, rotation in radians
    (clockwise on screen, image y pointing down)."""

    x_center: float
    y_center: float
    width: float
    height: float
    rotation: float = 0.0


@dataclass(frozen=True)
class Detection:
    box: np.ndarray  # (4,) xmin, ymin, width, height normalized to the image
    keypoints: np.ndarray  # (6,2) normalized: right eye, left eye, nose tip, mouth, right ear, left ear
    score: float


@dataclass(frozen=True)
class FaceResult:
    landmarks: np.ndarray  # (478,3) float32, x,y normalized to the image, z MediaPipe's relative depth
    transform: np.ndarray  # (4,4) float32 facial transformation matrix
    presence: float  # face presence score of the landmark model
    roi: Rect  # the crop the landmarks were predicted on
    crop_landmarks: np.ndarray  # (478,3) float32 raw model output in 256x256 crop pixels


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(np.asarray(x, np.float64), -100.0, 100.0)))


def _normalize_radians(a: float) -> float:
    return a - 2 * math.pi * math.floor((a + math.pi) / (2 * math.pi))


def ssd_anchors() -> np.ndarray:
    """(896,2) anchor centres of the short-range face detector (SsdAnchorsCalculator options of
    face_detector_graph.cc: 4 layers, strides 8/16/16/16, 1 aspect ratio + 1 interpolated scale,
    fixed anchor size, offset 0.5)."""
    strides = [8, 16, 16, 16]
    centres: list[np.ndarray] = []
    layer = 0
    while layer < len(strides):
        last = layer
        per_location = 0
        while last < len(strides) and strides[last] == strides[layer]:
            per_location += 2  # aspect ratio 1.0 and the interpolated scale
            last += 1
        fm = math.ceil(DET_SIZE / strides[layer])
        ys, xs = np.meshgrid((np.arange(fm) + 0.5) / fm, (np.arange(fm) + 0.5) / fm, indexing="ij")
        grid = np.stack([xs.ravel(), ys.ravel()], 1)
        centres.append(np.repeat(grid, per_location, axis=0))
        layer = last
    return np.concatenate(centres).astype(np.float32)


def _iou(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    x0 = np.maximum(box[0], boxes[:, 0])
    y0 = np.maximum(box[1], boxes[:, 1])
    x1 = np.minimum(box[0] + box[2], boxes[:, 0] + boxes[:, 2])
    y1 = np.minimum(box[1] + box[3], boxes[:, 1] + boxes[:, 3])
    inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
    union = box[2] * box[3] + boxes[:, 2] * boxes[:, 3] - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-12), 0.0)


def weighted_nms(boxes: np.ndarray, keypoints: np.ndarray, scores: np.ndarray, iou_threshold: float = 0.3
                 ) -> list[Detection]:
    """MediaPipe's WEIGHTED non-max suppression: each kept detection is the score-weighted mean of
    the boxes/keypoints overlapping the best remaining one (IoU > threshold), with the best score."""
    order = np.argsort(-scores, kind="stable")
    out: list[Detection] = []
    while len(order):
        top = order[0]
        sim = _iou(boxes[top], boxes[order])
        cand = order[sim > iou_threshold]
        rest = order[sim <= iou_threshold]
        w = scores[cand][:, None]
        corners = np.concatenate([boxes[cand, :2], boxes[cand, :2] + boxes[cand, 2:]], 1)
        mean = (corners * w).sum(0) / w.sum()
        kps = (keypoints[cand] * w[:, :, None]).sum(0) / w.sum()
        out.append(Detection(np.array([mean[0], mean[1], mean[2] - mean[0], mean[3] - mean[1]], np.float32),
                             kps.astype(np.float32), float(scores[top])))
        if len(rest) == len(order):
            break
        order = rest
    return out


def rect_from_points(box: np.ndarray, p0: np.ndarray, p1: np.ndarray, width: int, height: int,
                     scale: float, square_long: bool) -> Rect:
    """DetectionsToRectsCalculator (rotation from p0->p1 made level) + RectTransformationCalculator."""
    rot = _normalize_radians(0.0 - math.atan2(-(p1[1] - p0[1]) * height, (p1[0] - p0[0]) * width))
    w, h = float(box[2]), float(box[3])
    if square_long:
        long_side = max(w * width, h * height)
        w, h = long_side / width, long_side / height
    return Rect(float(box[0] + box[2] / 2), float(box[1] + box[3] / 2), w * scale, h * scale, rot)


def crop_matrix(rect: Rect, width: int, height: int, size: int, pixel_centers: bool = True) -> np.ndarray:
    """2x3 affine map from output-crop pixel (u,v) to source pixel (x,y) for a rotated ROI.

    pixel_centers=True samples output pixel centres at their continuous position (as a GPU texture
    lookup does); False maps the ROI corners to the crop's corner pixels like OpenCV's warpPerspective
    path of MediaPipe's CPU ImageToTensorCalculator.
    """
    cx, cy = rect.x_center * width, rect.y_center * height
    w, h = rect.width * width, rect.height * height
    c, s = math.cos(rect.rotation), math.sin(rect.rotation)
    off = 0.5 if pixel_centers else 0.0
    # normalized crop coords a = (u+off)/size - 0.5 ; src = centre + R @ (a*w, b*h)
    m = np.array([[c * w / size, -s * h / size, 0.0], [s * w / size, c * h / size, 0.0]])
    m[:, 2] = [cx, cy] + m[:, :2] @ np.array([off - size / 2, off - size / 2])
    if pixel_centers:
        m[:, 2] -= 0.5  # continuous coords -> OpenCV pixel-index coords
    return m


def _load_interpreter(model: bytes, threads: int):
    import warnings

    try:  # LiteRT if present, else TensorFlow's bundled interpreter (same kernels)
        from ai_edge_litert.interpreter import Interpreter  # type: ignore
    except ImportError:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        from tensorflow.lite.python.interpreter import Interpreter  # type: ignore
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tf.lite.Interpreter's deprecation notice, once per model
        it = Interpreter(model_content=model, num_threads=threads)
    it.allocate_tensors()
    return it


class FaceLandmarkExtractor:
    """MediaPipe FaceLandmarker (one face) on numpy RGB frames. Not thread-safe; one per worker."""

    def __init__(self, task_path: str | Path = DEFAULT_TASK_PATH, *, min_detection_confidence: float = 0.5,
                 min_presence_confidence: float = 0.5, threads: int = 2, pixel_centers: bool = False,
                 rotation_aligned: bool = True):
        task_path = Path(task_path)
        with zipfile.ZipFile(task_path) as z:
            det_model, lm_model = z.read(DETECTOR_NAME), z.read(LANDMARKER_NAME)
        self._det = _load_interpreter(det_model, threads)
        self._lm = _load_interpreter(lm_model, threads)
        self._det_in = self._det.get_input_details()[0]["index"]
        outs = {d["name"]: d["index"] for d in self._det.get_output_details()}
        self._det_reg, self._det_cls = outs["regressors"], outs["classificators"]
        self._lm_in = self._lm.get_input_details()[0]["index"]
        lm_outs = self._lm.get_output_details()
        # MediaPipe splits the outputs as [landmarks] [presence]: the 1434-wide tensor and the scalar after it.
        self._lm_out = next(d["index"] for d in lm_outs if int(np.prod(d["shape"])) == N_LANDMARKS * 3)
        self._lm_presence = lm_outs[[d["index"] for d in lm_outs].index(self._lm_out) + 1]["index"]
        self._anchors = ssd_anchors()
        self._geometry = GeometryPipeline(load_canonical_mesh(task_path))
        self.min_detection_confidence = min_detection_confidence
        self.min_presence_confidence = min_presence_confidence
        self.pixel_centers = pixel_centers
        # False = plain axis-aligned square crops (a baseline for compare_browser), not MediaPipe's ROI
        self.rotation_aligned = rotation_aligned
        self.timings_ms: dict[str, float] = {"detector": 0.0, "landmarks": 0.0, "geometry": 0.0}

    # ---- face detector -------------------------------------------------------------------------
    def detect_faces(self, rgb: np.ndarray) -> list[Detection]:
        """Face detections (best first) in normalized image coordinates. Raises ImageSizeError for
        an image with no pixels, ValueError for anything but (H,W,3) uint8."""
        rgb = _check_rgb(rgb)
        t0 = time.perf_counter()
        h, w = rgb.shape[:2]
        side = max(w, h)  # keep aspect ratio: letterbox the whole image into a square, zero border
        full = Rect(0.5, 0.5, side / w, side / h, 0.0)
        m = crop_matrix(full, w, h, DET_SIZE, self.pixel_centers)
        img = cv2.warpAffine(rgb, m, (DET_SIZE, DET_SIZE), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                             borderMode=cv2.BORDER_CONSTANT, borderValue=(0, 0, 0))
        x = img.astype(np.float32)[None] / 127.5 - 1.0
        self._det.set_tensor(self._det_in, x)
        self._det.invoke()
        raw = self._det.get_tensor(self._det_reg)[0]
        scores = _sigmoid(np.clip(self._det.get_tensor(self._det_cls)[0, :, 0], -100, 100))
        keep = scores >= self.min_detection_confidence
        self.timings_ms["detector"] += (time.perf_counter() - t0) * 1e3
        if not keep.any():
            return []
        raw, scores, anchors = raw[keep], scores[keep], self._anchors[keep]
        # reverse_output_order: x, y, w, h then 6 (x, y) keypoints, all in 128-px units around the anchor
        xc = raw[:, 0] / DET_SIZE + anchors[:, 0]
        yc = raw[:, 1] / DET_SIZE + anchors[:, 1]
        bw, bh = raw[:, 2] / DET_SIZE, raw[:, 3] / DET_SIZE
        boxes = np.stack([xc - bw / 2, yc - bh / 2, bw, bh], 1)
        kps = raw[:, 4:16].reshape(-1, 6, 2) / DET_SIZE + anchors[:, None, :]
        dets = weighted_nms(boxes, kps, scores)
        # project from the letterboxed square back to the image (DetectionProjectionCalculator)
        sx, sy = side / w, side / h
        ox, oy = 0.5 - sx / 2, 0.5 - sy / 2
        out = []
        for d in dets:
            box = np.array([d.box[0] * sx + ox, d.box[1] * sy + oy, d.box[2] * sx, d.box[3] * sy], np.float32)
            kp = d.keypoints * np.array([sx, sy], np.float32) + np.array([ox, oy], np.float32)
            out.append(Detection(box, kp, d.score))
        return out

    def roi_from_detection(self, det: Detection, width: int, height: int) -> Rect:
        return self._aligned(rect_from_points(det.box, det.keypoints[0], det.keypoints[1], width, height, 1.5,
                                              False))

    def roi_from_landmarks(self, landmarks: np.ndarray, width: int, height: int) -> Rect:
        lo, hi = landmarks[:, :2].min(0), landmarks[:, :2].max(0)
        box = np.array([lo[0], lo[1], hi[0] - lo[0], hi[1] - lo[1]])
        return self._aligned(rect_from_points(box, landmarks[33], landmarks[263], width, height, 1.5, True))

    def _aligned(self, r: Rect) -> Rect:
        return r if self.rotation_aligned else Rect(r.x_center, r.y_center, r.width, r.height, 0.0)

    # ---- landmark model ------------------------------------------------------------------------
    def crop(self, rgb: np.ndarray, roi: Rect) -> np.ndarray:
        """The 256x256 rotation-aligned RGB uint8 crop the landmark model sees."""
        rgb = _check_rgb(rgb)
        h, w = rgb.shape[:2]
        m = crop_matrix(roi, w, h, LM_SIZE, self.pixel_centers)
        return cv2.warpAffine(rgb, m, (LM_SIZE, LM_SIZE), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                              borderMode=cv2.BORDER_REPLICATE)

    def landmarks_in_roi(self, rgb: np.ndarray, roi: Rect, with_transform: bool = True) -> FaceResult | None:
        t0 = time.perf_counter()
        crop = self.crop(rgb, roi)
        self._lm.set_tensor(self._lm_in, crop.astype(np.float32)[None] / 255.0)
        self._lm.invoke()
        raw = self._lm.get_tensor(self._lm_out).reshape(N_LANDMARKS, 3).astype(np.float32)
        presence = float(_sigmoid(self._lm.get_tensor(self._lm_presence).ravel()[0]))
        self.timings_ms["landmarks"] += (time.perf_counter() - t0) * 1e3
        if presence < self.min_presence_confidence:
            return None
        lm = project_landmarks(raw, roi)
        h, w = rgb.shape[:2]
        transform = self.transforms(lm[None], w, h)[0] if with_transform else np.full((4, 4), np.nan, np.float32)
        return FaceResult(lm, transform, presence, roi, raw)

    def transforms(self, landmarks: np.ndarray, width: int, height: int) -> np.ndarray:
        """Facial transformation matrices (N,4,4) for normalized landmarks (N,478,3), batched."""
        t0 = time.perf_counter()
        out = self._geometry.transform(landmarks, width, height)
        self.timings_ms["geometry"] += (time.perf_counter() - t0) * 1e3
        return out

    # ---- public API ----------------------------------------------------------------------------
    def detect(self, rgb: np.ndarray) -> FaceResult | None:
        """IMAGE mode: run the detector, then the landmark model on the best face. None when no face
        is found; ImageSizeError for an image with no pixels."""
        rgb = _check_rgb(rgb)
        dets = self.detect_faces(rgb)
        if not dets:
            return None
        h, w = rgb.shape[:2]
        return self.landmarks_in_roi(rgb, self.roi_from_detection(dets[0], w, h))

    def track(self, frames: Iterable[np.ndarray], fps: float = 30.0, source: str = "", smooth: bool = True
              ) -> LandmarkTrack:
        """VIDEO mode (see `track_with_rois`)."""
        return self.track_with_rois(frames, fps, source, smooth)[0]

    def track_with_rois(self, frames: Iterable[np.ndarray], fps: float = 30.0, source: str = "",
                        smooth: bool = True) -> tuple[LandmarkTrack, list[Rect | None]]:
        """VIDEO mode over a sequence of RGB frames (an array (T,H,W,3) or any iterable).

        smooth=True applies the one-euro smoothing the browser's FaceLandmarker applies in VIDEO mode
        (frame i has timestamp i*1000/fps ms, as the product's FaceTracker sends); the next frame's
        ROI always comes from the unsmoothed landmarks, as in MediaPipe.
        """
        lms, valid, rois = [], [], []
        roi: Rect | None = None
        size: tuple[int, int] | None = None
        smoother: OneEuroLandmarkSmoother | None = None
        for i, frame in enumerate(frames):
            frame = _check_rgb(frame)
            h, w = frame.shape[:2]
            if size is None:
                size = (w, h)
            elif size != (w, h):
                raise ValueError("all frames of a track must have the same size")
            if roi is None:
                dets = self.detect_faces(frame)
                roi = self.roi_from_detection(dets[0], w, h) if dets else None
            if smooth and smoother is None:
                smoother = OneEuroLandmarkSmoother(w, h)
            res = self.landmarks_in_roi(frame, roi, with_transform=False) if roi is not None else None
            rois.append(roi if res is not None else None)
            if res is None:
                roi = None
                if smoother is not None:
                    smoother.reset()
                lms.append(np.full((N_LANDMARKS, 3), np.nan, np.float32))
                valid.append(False)
            else:
                roi = self.roi_from_landmarks(res.landmarks, w, h)
                lm = res.landmarks
                if smoother is not None:
                    lm = smoother.apply(lm, int(i * 1000.0 / fps * 1000.0) + TIMESTAMP_OFFSET_US)
                lms.append(lm)
                valid.append(True)
        if size is None:
            raise ValueError("no frames")
        landmarks, ok = np.stack(lms), np.array(valid)
        mats = np.full((len(ok), 4, 4), np.nan, np.float32)
        if ok.any():
            mats[ok] = self.transforms(landmarks[ok], size[0], size[1])
        meta = {"extractor": EXTRACTOR_VERSION, "smoothing": "one-euro" if smooth else "none"}
        return LandmarkTrack(landmarks, mats, ok, fps, size[0], size[1], source, meta), rois


def project_landmarks(raw: np.ndarray, roi: Rect) -> np.ndarray:
    """TensorsToLandmarks (/256) + LandmarkProjectionCalculator: crop pixels -> normalized image."""
    x = raw[:, 0] / LM_SIZE - 0.5
    y = raw[:, 1] / LM_SIZE - 0.5
    c, s = math.cos(roi.rotation), math.sin(roi.rotation)
    out = np.empty_like(raw, dtype=np.float32)
    out[:, 0] = (c * x - s * y) * roi.width + roi.x_center
    out[:, 1] = (s * x + c * y) * roi.height + roi.y_center
    out[:, 2] = raw[:, 2] / LM_SIZE * roi.width
    return out


class ImageSizeError(ValueError):
    """An image with no pixels (0 wide or 0 high): there is nothing to find a face in."""


def _check_rgb(rgb: np.ndarray) -> np.ndarray:
    """The image as a contiguous (H,W,3) uint8 array. Raises ValueError for another shape or dtype,
    ImageSizeError (a ValueError) when H or W is 0."""
    rgb = np.asarray(rgb)
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError(f"expected an (H,W,3) uint8 RGB image, got {rgb.shape} {rgb.dtype}")
    if rgb.shape[0] < 1 or rgb.shape[1] < 1:
        raise ImageSizeError(f"the image is {rgb.shape[1]}x{rgb.shape[0]} pixels: no face can be found in an empty image")
    return np.ascontiguousarray(rgb)
