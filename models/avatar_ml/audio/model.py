"""Audio encoder (wav2vec2's ONNX interface) and audio-to-mouth head.

Timing (shared by every encoder the loader accepts): 16 kHz input, 400-sample receptive window,
320-sample hop, so frame i covers samples [320 i, 320 i + 400) and is centred at
`frame_time_s(i) = (320 i + 200) / 16000`; T = floor((N - 400) / 320) + 1 frames, 50 Hz, exactly
wav2vec2's feature-extractor framing.

- `LogMelConvEncoder`: log-mel filterbank (80 bands, Hann window, 512-point DFT written as a
  convolution so it exports to ONNX) + a small stack of 1-D convolutions; `input_values` (1,N)
  float32 (zero-mean unit-variance speech) -> `last_hidden_state` (1,T,D). Its look-ahead is
  `ENCODER_LOOKAHEAD_FRAMES` frames (symmetric kernels) plus half a window.
- `MouthHead`: features (1,T,D) + the identity's reference mouth (1,R*3, canonical cm, minus the
  canonical mean) -> mouth displacement (1,T,R*3) from the reference, canonical cm. Causal
  convolutions over ~0.3 s of past features after one symmetric input layer (HEAD_LOOKAHEAD_FRAMES
  of look-ahead), output through a fixed PCA basis of real mouth motion. Total look-ahead
  `lookahead_ms()` = (3 + 2) * 20 ms + 12.5 ms = 112.5 ms.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn
import torch.nn.functional as F

SAMPLE_RATE = 16000
WINDOW = 400
HOP = 320
N_FFT = 512
N_MELS = 80
FRAME_RATE = SAMPLE_RATE / HOP  # 50 Hz
ENCODER_LOOKAHEAD_FRAMES = 3
HEAD_LOOKAHEAD_FRAMES = 2


def frame_count(n_samples: int) -> int:
    return max(0, (n_samples - WINDOW) // HOP + 1)


def frame_time_s(i: np.ndarray | int) -> np.ndarray | float:
    return (np.asarray(i) * HOP + WINDOW / 2) / SAMPLE_RATE


def lookahead_ms(encoder_frames: int = ENCODER_LOOKAHEAD_FRAMES, head_frames: int = HEAD_LOOKAHEAD_FRAMES) -> float:
    """Algorithmic audio-to-mouth look-ahead: future audio needed past a frame's centre."""
    return 1000.0 * ((encoder_frames + head_frames) * HOP + WINDOW / 2) / SAMPLE_RATE


def mel_filterbank(n_mels: int = N_MELS, n_fft: int = N_FFT, sr: int = SAMPLE_RATE,
                   fmin: float = 50.0, fmax: float = 7600.0) -> np.ndarray:
    """(n_mels, n_fft//2+1) triangular HTK-mel filters (slaney-normalised areas)."""
    def hz2mel(f):
        return 2595.0 * np.log10(1.0 + np.asarray(f) / 700.0)

    def mel2hz(m):
        return 700.0 * (10.0 ** (np.asarray(m) / 2595.0) - 1.0)

    freqs = np.linspace(0, sr / 2, n_fft // 2 + 1)
    pts = mel2hz(np.linspace(hz2mel(fmin), hz2mel(fmax), n_mels + 2))
    fb = np.zeros((n_mels, len(freqs)))
    for m in range(n_mels):
        lo, c, hi = pts[m], pts[m + 1], pts[m + 2]
        up = (freqs - lo) / (c - lo)
        down = (hi - freqs) / (hi - c)
        fb[m] = np.maximum(0, np.minimum(up, down)) * (2.0 / (hi - lo))
    return fb.astype(np.float32)


class LogMel(nn.Module):
    """(B,N) waveform -> (B,80,T) log-mel, framing as documented above. ONNX-exportable (Conv1d)."""

    def __init__(self):
        super().__init__()
        n = np.arange(WINDOW)
        win = 0.5 - 0.5 * np.cos(2 * np.pi * n / WINDOW)
        k = np.arange(N_FFT // 2 + 1)[:, None]
        ang = 2 * np.pi * k * n[None] / N_FFT
        basis = np.concatenate([np.cos(ang) * win, -np.sin(ang) * win], axis=0)[:, None, :]
        self.register_buffer("dft", torch.tensor(basis, dtype=torch.float32))
        self.register_buffer("fb", torch.tensor(mel_filterbank()))
        self.register_buffer("window", torch.tensor(win, dtype=torch.float32))

    def forward(self, wav: torch.Tensor) -> torch.Tensor:
        if torch.onnx.is_in_onnx_export() or not self.training:
            spec = F.conv1d(wav[:, None, :], self.dft, stride=HOP)  # (B, 2*257, T)
            half = spec.shape[1] // 2
            power = spec[:, :half] ** 2 + spec[:, half:] ** 2
        else:
            # Same power spectrum through the FFT (training speed): torch centres the 400-sample
            # window in the 512-sample frame, so pad 56 samples on each side to keep the framing.
            pad = (N_FFT - WINDOW) // 2
            x = F.pad(wav, (pad, pad))
            power = torch.stft(x, N_FFT, HOP, WINDOW, self.window, center=False, return_complex=True).abs() ** 2
        mel = torch.einsum("mf,bft->bmt", self.fb, power)
        return torch.log(mel + 1e-4)


class LogMelConvEncoder(nn.Module):
    """wav2vec2-interface encoder: input_values (B,N) -> last_hidden_state (B,T,dim)."""

    def __init__(self, dim: int = 64, layers: int = ENCODER_LOOKAHEAD_FRAMES):
        super().__init__()
        self.logmel = LogMel()
        self.norm = nn.BatchNorm1d(N_MELS)
        blocks = []
        ch = N_MELS
        for _ in range(layers):
            blocks += [nn.Conv1d(ch, dim, 3, padding=1), nn.GELU()]
            ch = dim
        self.convs = nn.Sequential(*blocks)
        self.dim = dim

    def forward(self, input_values: torch.Tensor) -> torch.Tensor:
        return self.from_logmel(self.logmel(input_values))

    def from_logmel(self, logmel: torch.Tensor) -> torch.Tensor:
        """(B,80,T) log-mel (LogMel's output) -> (B,T,dim); training runs from cached log-mels."""
        return self.convs(self.norm(logmel)).transpose(1, 2)


class CausalConv(nn.Module):
    def __init__(self, cin: int, cout: int, kernel: int, dilation: int = 1):
        super().__init__()
        self.pad = (kernel - 1) * dilation
        self.conv = nn.Conv1d(cin, cout, kernel, dilation=dilation)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(F.pad(x, (self.pad, 0)))


class MouthHead(nn.Module):
    """features (B,T,D) + reference (B,R*3) -> displacement (B,T,R*3), canonical cm (causal)."""

    def __init__(self, feat_dim: int, basis: np.ndarray, ref_mean: np.ndarray, ref_components: np.ndarray,
                 hidden: int = 64):
        super().__init__()
        k = basis.shape[0]
        self.register_buffer("basis", torch.tensor(basis, dtype=torch.float32))  # (K, R*3)
        self.register_buffer("ref_mean", torch.tensor(ref_mean, dtype=torch.float32))  # (R*3,)
        self.register_buffer("ref_components", torch.tensor(ref_components, dtype=torch.float32))  # (C, R*3)
        # the only non-causal layer: HEAD_LOOKAHEAD_FRAMES of future features (40 ms)
        self.inp = nn.Conv1d(feat_dim, hidden, 2 * HEAD_LOOKAHEAD_FRAMES + 1, padding=HEAD_LOOKAHEAD_FRAMES)
        self.ref = nn.Linear(ref_components.shape[0], 2 * hidden)
        self.blocks = nn.ModuleList([CausalConv(hidden, hidden, 3, d) for d in (1, 2, 4, 1)])
        self.out = nn.Conv1d(hidden, k, 1)
        self.ref_out = nn.Linear(ref_components.shape[0], k)
        # range of the identity code over the training references: a face unlike any training
        # identity is clamped to it instead of extrapolating the conditioning
        c = ref_components.shape[0]
        self.register_buffer("code_lo", torch.full((c,), -1e3))
        self.register_buffer("code_hi", torch.full((c,), 1e3))
        self.code_dropout = 0.0

    def set_code_range(self, references: np.ndarray) -> None:
        codes = (torch.tensor(references, dtype=torch.float32) - self.ref_mean) @ self.ref_components.T
        self.code_lo.copy_(codes.min(dim=0).values)
        self.code_hi.copy_(codes.max(dim=0).values)

    def forward(self, features: torch.Tensor, reference: torch.Tensor) -> torch.Tensor:
        r = (reference - self.ref_mean) @ self.ref_components.T  # (B,C) identity code
        r = torch.minimum(torch.maximum(r, self.code_lo), self.code_hi)
        if self.training and self.code_dropout > 0:  # sometimes the average identity: keeps r=0 sensible
            keep = (torch.rand(r.shape[0], 1) >= self.code_dropout).float()
            r = r * keep
        gamma, beta = self.ref(r).chunk(2, dim=-1)
        x = self.inp(features.transpose(1, 2))
        x = x * (1 + gamma[..., None]) + beta[..., None]
        for blk in self.blocks:
            x = x + F.gelu(blk(x))
        coef = self.out(x).transpose(1, 2) + self.ref_out(r)[:, None, :]  # (B,T,K)
        return coef @ self.basis


def count_parameters(m: nn.Module) -> int:
    return sum(p.numel() for p in m.parameters())


def normalise_waveform(wav: np.ndarray) -> np.ndarray:
    """wav2vec2's feature-extractor normalisation: zero mean, unit variance (float32)."""
    wav = np.asarray(wav, np.float32)
    return ((wav - wav.mean()) / math.sqrt(wav.var() + 1e-7)).astype(np.float32)
