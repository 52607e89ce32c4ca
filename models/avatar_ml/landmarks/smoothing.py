"""The landmark smoothing MediaPipe's FaceLandmarker applies in VIDEO / LIVE_STREAM mode.

LandmarksSmoothingCalculator with a one-euro filter (min_cutoff 0.05, beta 80, derivate_cutoff 1,
frequency 30 until timestamps give one), per landmark and axis, on pixel coordinates (z scaled by
the image width), velocity scaled by 1 / object size (mean of the landmarks' bounding-box width and
height in pixels). A frame without a face resets it. As in mediapipe/util/filtering/one_euro_filter.cc
a timestamp that does not increase (so also a first timestamp of exactly 0) passes the value through
without touching the state.
"""

from __future__ import annotations

import math

import numpy as np

MIN_CUTOFF = 0.05
BETA = 80.0
DERIVATE_CUTOFF = 1.0
DEFAULT_FREQUENCY = 30.0


def _alpha(cutoff: np.ndarray | float, frequency: float) -> np.ndarray | float:
    te = 1.0 / frequency
    tau = 1.0 / (2 * math.pi * cutoff)
    return 1.0 / (1.0 + tau / te)


class OneEuroLandmarkSmoother:
    """Vectorised one-euro filter over an (N,3) landmark array, MediaPipe semantics."""

    def __init__(self, width: int, height: int, min_cutoff: float = MIN_CUTOFF, beta: float = BETA,
                 derivate_cutoff: float = DERIVATE_CUTOFF, frequency: float = DEFAULT_FREQUENCY):
        self._scale = np.array([width, height, width], np.float64)
        self.min_cutoff, self.beta, self.derivate_cutoff = min_cutoff, beta, derivate_cutoff
        self._initial_frequency = frequency
        self.reset()

    def reset(self) -> None:
        self._frequency = self._initial_frequency
        self._last_time_ns = 0
        self._x_raw: np.ndarray | None = None  # last raw value of the value filter
        self._x: np.ndarray | None = None  # last filtered value
        self._dx: np.ndarray | None = None  # last filtered derivative

    def apply(self, landmarks: np.ndarray, timestamp_us: int) -> np.ndarray:
        """Smooths one frame of normalized landmarks (N,3); returns normalized landmarks."""
        px = np.asarray(landmarks, np.float64) * self._scale
        lo, hi = px[:, :2].min(0), px[:, :2].max(0)
        object_scale = float(((hi - lo)[0] + (hi - lo)[1]) / 2.0)
        if object_scale < 1e-6:
            return np.asarray(landmarks, np.float32)
        value_scale = 1.0 / object_scale
        t_ns = int(timestamp_us) * 1000
        if self._last_time_ns >= t_ns:
            return np.asarray(landmarks, np.float32)
        if self._last_time_ns != 0 and t_ns != 0:
            self._frequency = 1.0 / ((t_ns - self._last_time_ns) * 1e-9)
        self._last_time_ns = t_ns

        if self._x_raw is None:
            dvalue = np.zeros_like(px)
        else:
            dvalue = (px - self._x_raw) * value_scale * self._frequency
        a_d = _alpha(self.derivate_cutoff, self._frequency)
        self._dx = dvalue if self._dx is None else a_d * dvalue + (1 - a_d) * self._dx
        cutoff = self.min_cutoff + self.beta * np.abs(self._dx)
        a = _alpha(cutoff, self._frequency)
        self._x = px if self._x is None else a * px + (1 - a) * self._x
        self._x_raw = px
        return (self._x / self._scale).astype(np.float32)
