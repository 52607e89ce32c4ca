"""face-api's FaceRecognitionNet (dlib's ResNet-34-like face recogniser) in PyTorch.

Layer for layer what `FaceRecognitionNet.forwardInput` does in @vladmandic/face-api 1.7.15:
mean-RGB subtraction, /255, a 7x7/2 conv + 3x3/2 max-pool, residual stages of 32/64/128/256
channels (each conv followed by a per-channel scale layer), global average, a 256x128 matrix.
Every conv is "conv + bias, then x * scale.weights + scale.biases" exactly as the tfjs code.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from .architecture import STAGES, INPUT_SIZE, MEAN_RGB, PIXEL_SCALE


class _ConvLayer:
    """conv2d + bias, then the affine "scale" layer; weights converted from HWIO to OIHW."""

    def __init__(self, weights: dict[str, np.ndarray], prefix: str) -> None:
        filters = weights[f"{prefix}/conv/filters"]
        # channels_last (NHWC in memory, like the tfjs original) is ~3x faster on CPU here.
        self.filters = torch.from_numpy(np.ascontiguousarray(filters.transpose(3, 2, 0, 1))) \
            .contiguous(memory_format=torch.channels_last)
        self.bias = torch.from_numpy(weights[f"{prefix}/conv/bias"].copy())
        self.scale_w = torch.from_numpy(weights[f"{prefix}/scale/weights"].copy()).view(1, -1, 1, 1)
        self.scale_b = torch.from_numpy(weights[f"{prefix}/scale/biases"].copy()).view(1, -1, 1, 1)
        self.kernel = int(filters.shape[0])

    def __call__(self, x: torch.Tensor, stride: int, relu: bool) -> torch.Tensor:
        # tfjs 'same' (stride 1, odd kernel) pads k//2 on every side; 'valid' (stride 2) pads none.
        padding = self.kernel // 2 if stride == 1 else 0
        out = F.conv2d(x, self.filters, self.bias, stride=stride, padding=padding)
        out = out * self.scale_w + self.scale_b
        return F.relu(out) if relu else out


class RecognitionNet:
    """Inference-only port; `forward` takes (N,150,150,3) float32 RGB in 0..255, returns (N,128)."""

    def __init__(self, weights: dict[str, np.ndarray]) -> None:
        self._layers: dict[str, _ConvLayer] = {}
        for name, kind in STAGES:
            if kind == "down0":
                self._layers[name] = _ConvLayer(weights, name)
            else:
                self._layers[f"{name}/conv1"] = _ConvLayer(weights, f"{name}/conv1")
                self._layers[f"{name}/conv2"] = _ConvLayer(weights, f"{name}/conv2")
        self._fc = torch.from_numpy(weights["fc"].copy())
        self._mean = torch.tensor(MEAN_RGB, dtype=torch.float32).view(1, 3, 1, 1)

    def _residual(self, x: torch.Tensor, name: str) -> torch.Tensor:
        out = self._layers[f"{name}/conv1"](x, 1, True)
        out = self._layers[f"{name}/conv2"](out, 1, False)
        return F.relu(out + x)

    def _residual_down(self, x: torch.Tensor, name: str) -> torch.Tensor:
        out = self._layers[f"{name}/conv1"](x, 2, True)
        out = self._layers[f"{name}/conv2"](out, 1, False)
        pooled = F.avg_pool2d(x, 2, 2)
        if pooled.shape[2:] != out.shape[2:]:
            # face-api appends one zero row and one zero column when the strided conv is smaller.
            out = F.pad(out, (0, 1, 0, 1))
        if pooled.shape[1] != out.shape[1]:
            # ... and doubles the shortcut's channels with zeros.
            pooled = torch.cat([pooled, torch.zeros_like(pooled)], dim=1)
        return F.relu(pooled + out)

    @torch.inference_mode()
    def forward(self, batch_nhwc: np.ndarray) -> np.ndarray:
        if batch_nhwc.ndim != 4 or batch_nhwc.shape[1:] != (INPUT_SIZE, INPUT_SIZE, 3):
            raise ValueError(f"expected (N,{INPUT_SIZE},{INPUT_SIZE},3), got {batch_nhwc.shape}")
        x = torch.from_numpy(np.ascontiguousarray(batch_nhwc, dtype=np.float32)).permute(0, 3, 1, 2)
        x = x.contiguous(memory_format=torch.channels_last)
        x = (x - self._mean) / PIXEL_SCALE
        out = self._layers["conv32_down"](x, 2, True)
        out = F.max_pool2d(out, 3, 2)
        for name, kind in STAGES[1:]:
            out = self._residual(out, name) if kind == "res" else self._residual_down(out, name)
        pooled = out.mean(dim=(2, 3))
        return (pooled @ self._fc).numpy()
