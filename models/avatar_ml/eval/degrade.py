"""Source degradations the harness uses to test the teacher's robustness (one-shot onboarding
from a blurry, JPEG-damaged or low-resolution portrait)."""

from __future__ import annotations

from typing import Callable

import cv2
import numpy as np


def blur(rgb: np.ndarray, sigma: float = 2.0) -> np.ndarray:
    return cv2.GaussianBlur(rgb, (0, 0), sigmaX=sigma)


def jpeg(rgb: np.ndarray, quality: int = 20) -> np.ndarray:
    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise RuntimeError("JPEG encoding failed")
    return cv2.cvtColor(cv2.imdecode(buf, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)


def downup(rgb: np.ndarray, factor: int = 4) -> np.ndarray:
    h, w = rgb.shape[:2]
    small = cv2.resize(rgb, (max(w // factor, 1), max(h // factor, 1)), interpolation=cv2.INTER_AREA)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)


DEGRADATIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "blur_s2": blur,
    "jpeg_q20": jpeg,
    "downup_x4": downup,
}
