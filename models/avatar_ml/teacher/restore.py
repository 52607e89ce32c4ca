"""Mild one-shot source restoration (in the spirit of the paper's SSR, without learned weights):
edge-preserving (bilateral) denoising that also smooths JPEG blocking and grain, optionally followed
by an unsharp mask. Grain and blocking in a one-shot source cannot be reproduced frame to frame, so
removing them helps every generated frame; edges survive the bilateral filter."""

from __future__ import annotations

import cv2
import numpy as np


def restore_source(rgb: np.ndarray, sharpen: float = 0.0, sigma_color: float = 30, sigma_space: float = 3) -> np.ndarray:
    den = cv2.bilateralFilter(rgb, d=5, sigmaColor=sigma_color, sigmaSpace=sigma_space)
    blur = cv2.GaussianBlur(den, (0, 0), sigmaX=1.2).astype(np.float32)
    out = den.astype(np.float32) * (1 + sharpen) - blur * sharpen
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)
