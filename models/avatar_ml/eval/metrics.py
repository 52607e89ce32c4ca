"""Per-frame and per-sequence metrics of the evaluation harness (all on 256x256 face crops)."""

from __future__ import annotations

import numpy as np
from skimage.metrics import structural_similarity

from ..teacher.topology import mouth_opening


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    """SSIM of two RGB uint8 images (scikit-image defaults: 7x7 uniform window, per channel, averaged)."""
    return float(structural_similarity(a, b, channel_axis=2, data_range=255))


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """PSNR in dB over all RGB channels (uint8 range); identical images give +inf."""
    mse = np.mean(np.square(a.astype(np.float64) - b.astype(np.float64)))
    return float("inf") if mse == 0 else float(10.0 * np.log10(255.0**2 / mse))


def akd_px(pred: np.ndarray, ref: np.ndarray) -> float:
    """Average keypoint distance in pixels between (N, 2+) landmark sets given in the same pixel frame."""
    return float(np.mean(np.linalg.norm(np.asarray(pred)[:, :2] - np.asarray(ref)[:, :2], axis=1)))


def mouth_corr(pred_landmarks: np.ndarray, ref_landmarks: np.ndarray) -> float | None:
    """Pearson correlation over time of the mouth opening of two (T, 478, 2+) landmark sequences.

    Returns 0.0 when the predicted opening is constant (a method whose mouth never moves carries
    no information about the real one) and None when the reference itself never moves.
    """
    p = mouth_opening(pred_landmarks)
    r = mouth_opening(ref_landmarks)
    if len(p) < 3 or np.std(r) < 1e-9:
        return None
    if np.std(p) < 1e-9:
        return 0.0
    return float(np.corrcoef(p, r)[0, 1])
