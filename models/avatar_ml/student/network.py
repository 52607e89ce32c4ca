"""The per-identity student network: landmarks in, a finished RGB frame out, everything in one graph.

Export form (what `student.onnx` holds), `StudentNet.forward`:
    landmarks float32 [B, 478, 3]  MediaPipe coordinates normalised to the identity's reference
                                   image (x, y in [0,1]; z in x's scale, unused)
 -> frame     uint8   [B, 256, 256, 3] RGB

Inside the graph, per frame:
1. **Prior motion** (no weights but two scalars): a backward flow at 64x64 interpolated from the
   displacements of 164 contour + iris keypoints between the driven landmarks and the identity's
   neutral ones (normalised Gaussian RBF around the *driven* keypoints, plus a constant
   "background" weight so the flow fades to zero away from the face: the background stays put).
2. **Learned motion residual**: a small dilated CNN on Gaussian heatmaps of 42 driven keypoints and
   the prior flow at 32x32 corrects the prior (hair, neck, jaw, what RBF smoothing misses).
3. **Warp**: `grid_sample` of the identity's appearance features (16 channels at 128x128) and of its
   reference RGB (256x256), both constants baked in at onboarding (the "appearance features
   delivered by the teacher").
4. **Decoder** at 128 -> 64 -> 128 on the warped features plus mouth/eye heatmaps, giving an RGB
   residual, a generated RGB (mouth interior, disocclusions) and a blend mask, upsampled to 256 and
   composited over the warped reference RGB.

The export graph (`render_export`) computes the same pictures (within a level) in cheaper
onnxruntime ops: the RBF prior as two matmuls and an exp instead of a softmax (`flow_export`),
positions and gains planar (NCHW resizes, no channels-last transposes), and the 256^2 RGB warp as
one gather per pixel from a baked uint8 table of the four bilinear corners, weighted by one
DequantizeLinear and summed by one Gemm that also adds the decoder's colour (`sample_corner_rows`).

Training form: `render(landmarks, appearance)` with `appearance = encode(source_rgb)`, so the
source can be degraded during training and the encoder's output on the clean source baked at export
(`bake()`), after which `forward` needs only landmarks.

FLOPs (torch.utils.flop_counter, 1 MAC = 2 FLOPs): `count_flops()`; about 0.74 GFLOPs per frame.
"""

from __future__ import annotations

import warnings

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from ..teacher.topology import (
    FACE_OVAL, LEFT_BROW, LEFT_EYE, LEFT_IRIS_CENTER, LIPS_INNER, LIPS_OUTER, NOSE, RIGHT_BROW, RIGHT_EYE,
    RIGHT_IRIS_CENTER, WARP2D_LANDMARKS,
)

OUT_SIZE = 256
FEAT_SIZE = 128
FLOW_SIZE = 64
MOTION_SIZE = 32
FEAT_CH = 16
LANDMARKS = 478

IRISES = np.array([468, 469, 470, 471, 472, 473, 474, 475, 476, 477])
# Keypoints of the RBF prior flow: the warp baseline's 154 contour points + the 10 iris points.
FLOW_KEYPOINTS = np.concatenate([WARP2D_LANDMARKS, IRISES]).astype(np.int64)
# Keypoints of the motion net's heatmaps (42): every 3rd face-oval point, brows, eyes, irises, nose, lips.
MOTION_KEYPOINTS = np.unique(np.concatenate([
    FACE_OVAL[::3], RIGHT_BROW[::3], LEFT_BROW[::3], RIGHT_EYE[::4], LEFT_EYE[::4],
    [RIGHT_IRIS_CENTER, LEFT_IRIS_CENTER], NOSE[[0, 6, 8, 12, 13]], LIPS_OUTER[::5], LIPS_INNER[::5],
])).astype(np.int64)
# Keypoints of the decoder's region heatmaps (mouth interior, lids, irises) at 128x128.
REGION_KEYPOINTS = np.concatenate([LIPS_INNER[::2], RIGHT_EYE[::4], LEFT_EYE[::4],
                                   [RIGHT_IRIS_CENTER, LEFT_IRIS_CENTER]]).astype(np.int64)
MOUTH_KEYPOINTS = np.concatenate([LIPS_INNER, LIPS_OUTER]).astype(np.int64)
EYE_KEYPOINTS = np.concatenate([RIGHT_EYE, LEFT_EYE, IRISES]).astype(np.int64)


def pixel_grid(size: int) -> torch.Tensor:
    """(size*size, 2) pixel-centre coordinates in [0,1], x fastest (row-major image order)."""
    c = (torch.arange(size, dtype=torch.float32) + 0.5) / size
    y, x = torch.meshgrid(c, c, indexing="ij")
    return torch.stack([x.reshape(-1), y.reshape(-1)], dim=1)


def heatmaps(points: torch.Tensor, size: int, sigma: float) -> torch.Tensor:
    """Gaussian heatmaps: points (B,K,2) in [0,1] -> (B,K,size,size); sigma in [0,1] units.
    Separable: exp(-dx^2/2s^2) (B,K,1,W) times exp(-dy^2/2s^2) (B,K,H,1)."""
    c = (torch.arange(size, dtype=points.dtype, device=points.device) + 0.5) / size
    k = -0.5 / (sigma * sigma)
    gx = torch.exp((points[:, :, 0:1] - c).pow(2) * k)  # (B,K,W)
    gy = torch.exp((points[:, :, 1:2] - c).pow(2) * k)  # (B,K,H)
    return gy.unsqueeze(3) * gx.unsqueeze(2)


def bilinear_sample(image: torch.Tensor, pos: torch.Tensor, size: int) -> torch.Tensor:
    """Bilinear lookup with border clamping, as gathers (much faster than GridSample in onnxruntime).

    image (H*W, C) channels-last rows of a size x size image, flattened; pos (B, P, 2) sampling
    positions in [0,1] (pixel centres at (i+0.5)/size, like grid_sample with align_corners=False,
    padding_mode='border') -> (B, P, C). Differentiable in image and pos."""
    p = torch.clamp(pos * size - 0.5, 0.0, size - 1.0)
    p0 = torch.clamp(torch.floor(p), 0.0, size - 2.0)
    f = p - p0  # in [0,1]
    i0 = p0.to(torch.int64)
    idx = i0[..., 1] * size + i0[..., 0]  # (B,P) top-left
    fx, fy = f[..., 0:1], f[..., 1:2]
    flat = idx.reshape(-1)
    v00 = image.index_select(0, flat)
    v01 = image.index_select(0, flat + 1)
    v10 = image.index_select(0, flat + size)
    v11 = image.index_select(0, flat + size + 1)
    shape = (pos.shape[0], pos.shape[1], image.shape[1])
    v00, v01, v10, v11 = (v.reshape(shape) for v in (v00, v01, v10, v11))
    top = v00 + (v01 - v00) * fx
    bot = v10 + (v11 - v10) * fx
    return top + (bot - top) * fy


def corner_rows(image: torch.Tensor, size: int) -> torch.Tensor:
    """image (H*W, C) channels-last rows of a size x size image -> (H*W, 4C): per top-left pixel its
    four bilinear corners [v00, v01, v10, v11], same dtype (rows at the last column/row wrap around;
    `corner_weights` never points at them: its top-left index stops at size - 2)."""
    c = image.shape[1]
    img = image.reshape(size, size, c)
    v01 = torch.roll(img, shifts=-1, dims=1)
    v10 = torch.roll(img, shifts=-1, dims=0)
    v11 = torch.roll(v10, shifts=-1, dims=1)
    return torch.cat([img, v01, v10, v11], dim=2).reshape(size * size, 4 * c)


def top_left_planar(px: torch.Tensor, py: torch.Tensor, size: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The bilinear cell of planar positions px, py (B, P) in [0,1] (pixel centres at (i+0.5)/size,
    border-clamped as in bilinear_sample) -> (idx (B*P,) int64 row of the top-left pixel in a
    flattened size x size image, fx, fy (B, P) the fractions towards the next column / row)."""
    x = torch.clamp(px * size - 0.5, 0.0, size - 1.0)
    y = torch.clamp(py * size - 0.5, 0.0, size - 1.0)
    x0 = torch.clamp(torch.floor(x), 0.0, size - 2.0)
    y0 = torch.clamp(torch.floor(y), 0.0, size - 2.0)
    fx, fy = x - x0, y - y0
    idx = (y0 * size + x0).to(torch.int64).reshape(-1)  # exact in float32 below 2**24
    return idx, fx, fy


def corner_weights(px: torch.Tensor, py: torch.Tensor, size: int,
                   gain: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Where and how much `corner_rows` rows count in a bilinear lookup, from planar coordinates.

    px, py, gain (B, P): sampling positions in [0,1] as in bilinear_sample, and a per-position factor
    -> (idx (B*P,) int64 top-left rows, w (B, P, 4) gain times the weights of [v00, v01, v10, v11]).
    Planar on purpose: with (P, 2) positions onnxruntime resizes and slices channels-last, ~3x
    slower per value than the planar (1, 2, H, W) resize."""
    idx, fx, fy = top_left_planar(px, py, size)
    top, bottom = gain - gain * fy, gain * fy
    tx, bx = top * fx, bottom * fx
    return idx, torch.stack([top - tx, tx, bottom - bx, bx], dim=2)


class _ScaleRows(torch.autograd.Function):
    """x uint8 (N, C), s float (N,) -> float (N, C) = x * s[:, None]. In ONNX one DequantizeLinear
    with a per-row (axis 0) scale: the cast and the weighting in one pass over the values."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, s: torch.Tensor) -> torch.Tensor:  # noqa: D102
        return x.to(torch.float32) * s[:, None]

    @staticmethod
    def symbolic(g, x, s):  # noqa: D102
        return g.op("DequantizeLinear", x, s, axis_i=0)


def sample_corner_rows(rows: torch.Tensor, idx: torch.Tensor, w: torch.Tensor, add: torch.Tensor) -> torch.Tensor:
    """The bilinear lookup of the uint8 image behind `rows` (corner_rows, (H*W, 4C)), weighted, plus
    `add`: idx, w from corner_weights, add (B*P, C) -> (B*P, C) float = add + sum_k w_k v_k.

    One gather of 4C-byte rows (onnxruntime's gather costs per index, and a uint8 table of the
    256^2 image, 786 KB, stays in a core's L2 where the float one, 3 MB, did not), one
    DequantizeLinear that casts and weights, one Gemm that sums the four corners and adds `add`
    (onnxruntime's (P, C) x (P, 1) broadcast multiplies are slow)."""
    c = rows.shape[1] // 4
    terms = _ScaleRows.apply(rows.index_select(0, idx).reshape(-1, c), w.reshape(-1))  # (B*P*4, C)
    summing = torch.cat([torch.eye(c, dtype=torch.float32)] * 4, dim=0)  # (4C, C)
    return torch.addmm(add, terms.reshape(-1, 4 * c), summing)


def bilinear_sample_planar(image: torch.Tensor, px: torch.Tensor, py: torch.Tensor, size: int) -> torch.Tensor:
    """`bilinear_sample` (the same arithmetic) from planar positions px, py (B, P) -> (B, P, C)."""
    flat, fx, fy = top_left_planar(px, py, size)
    fx, fy = fx[..., None], fy[..., None]
    shape = (px.shape[0], px.shape[1], image.shape[1])
    v00, v01, v10, v11 = (image.index_select(0, flat + o).reshape(shape) for o in (0, 1, size, size + 1))
    top = v00 + (v01 - v00) * fx
    bot = v10 + (v11 - v10) * fx
    return top + (bot - top) * fy


def conv(cin: int, cout: int, stride: int = 1, dilation: int = 1) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, 3, stride=stride, padding=dilation, dilation=dilation)


class ResBlock(nn.Module):
    def __init__(self, ch: int, dilation: int = 1) -> None:
        super().__init__()
        self.a = conv(ch, ch, dilation=dilation)
        self.b = conv(ch, ch, dilation=dilation)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.b(F.relu(self.a(x)))


class AppearanceEncoder(nn.Module):
    """Training only: reference RGB (B,3,256,256) in [0,1] -> features (B,16,128,128). Baked at export."""

    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Sequential(conv(3, 24, stride=2), nn.ReLU(), conv(24, 24), nn.ReLU(), ResBlock(24),
                                 nn.ReLU(), nn.Conv2d(24, FEAT_CH, 1))

    def forward(self, rgb: torch.Tensor) -> torch.Tensor:
        return self.net(rgb * 2 - 1)


class StudentNet(nn.Module):
    """One identity's renderer. `neutral` (478,3): the identity's landmarks in its reference image.
    `width` scales the conv channels (1: the shipped student; ~3: a baseline of the paper's ~6 GFLOPs)."""

    def __init__(self, neutral: np.ndarray, width: float = 1.0) -> None:
        super().__init__()
        neutral = torch.as_tensor(np.asarray(neutral, np.float32)[:, :2])
        self.register_buffer("flow_idx", torch.as_tensor(FLOW_KEYPOINTS))
        self.register_buffer("motion_idx", torch.as_tensor(MOTION_KEYPOINTS))
        self.register_buffer("region_idx", torch.as_tensor(REGION_KEYPOINTS))
        self.register_buffer("src_flow_kp", neutral[FLOW_KEYPOINTS].clone())
        self.register_buffer("grid_flow", pixel_grid(FLOW_SIZE))
        self.register_buffer("grid_motion", pixel_grid(MOTION_SIZE))
        # prior flow: RBF width and the background weight (log), learned
        self.log_sigma = nn.Parameter(torch.tensor(float(np.log(0.03))))
        self.bg_logit = nn.Parameter(torch.tensor(-4.0))
        nm = len(MOTION_KEYPOINTS)
        cm, cd, cu = int(32 * width), int(32 * width), int(16 * width)  # width > 1: the paper-size baseline
        self.motion = nn.Sequential(conv(nm + 2, cm), nn.ReLU(), conv(cm, cm, dilation=2), nn.ReLU(),
                                    conv(cm, cm, dilation=4), nn.ReLU(), conv(cm, 2))
        nn.init.zeros_(self.motion[-1].weight)
        nn.init.zeros_(self.motion[-1].bias)
        nr = len(REGION_KEYPOINTS)
        self.down = conv(FEAT_CH + nr, cd, stride=2)
        self.res1 = ResBlock(cd)
        self.res2 = ResBlock(cd, dilation=2)
        self.up = conv(cd + FEAT_CH, cu)
        self.out = nn.Conv2d(cu, 7, 3, padding=1)
        with torch.no_grad():
            self.out.weight.mul_(0.1)
            self.out.bias.zero_()
            self.out.bias[6] = -3.0  # start as a pure warp: blend mask ~0.05
        self.encoder = AppearanceEncoder()
        # Baked at export (`bake`): appearance features and the reference RGB.
        self.register_buffer("baked_feat", torch.zeros(FEAT_SIZE * FEAT_SIZE, FEAT_CH))
        self.register_buffer("baked_rgb", torch.zeros(OUT_SIZE * OUT_SIZE, 3))

    # ---- pieces ------------------------------------------------------------------------------
    def prior_flow(self, xy: torch.Tensor) -> torch.Tensor:
        """xy (B,478,2) -> backward sampling positions (B,64,64,2) in [0,1] from the RBF prior."""
        d = xy.index_select(1, self.flow_idx)  # (B,K,2) driven
        disp = self.src_flow_kp[None] - d  # where each driven keypoint comes from
        g = self.grid_flow  # (P,2)
        # -|p-d|^2 / 2s^2 via matmul: |p|^2 - 2 p.d + |d|^2
        d2 = (g.pow(2).sum(-1)[None, :, None] - 2 * torch.matmul(g[None], d.transpose(1, 2))
              + d.pow(2).sum(-1)[:, None, :])
        logits = d2 * (-0.5 * torch.exp(-2 * self.log_sigma))  # (B,P,K)
        bg = self.bg_logit.expand(logits.shape[0], logits.shape[1], 1)
        w = torch.softmax(torch.cat([logits, bg], dim=2), dim=2)[:, :, :-1]
        flow = g[None] + torch.matmul(w, disp)  # (B,P,2)
        return flow.reshape(-1, FLOW_SIZE, FLOW_SIZE, 2)

    def flow_export(self, xy: torch.Tensor) -> torch.Tensor:
        """`flow` in fewer, cheaper onnxruntime ops (export only; the same values up to float
        rounding): (B,478,2) -> sampling positions (B,2,64,64) in [0,1], planar.

        The RBF logits -s|p-d|^2 come from one (K,4)x(4,P) matmul of [2s dx, 2s dy, -s, -s|d|^2] by
        [px, py, |p|^2, 1]; the softmax with its background column becomes exp and a (3,K)x(K,P)
        matmul giving [sum e disp, sum e] (no max subtraction needed: the logits are <= 0, and the
        background term exp(bg) > 0 keeps the denominator from 0). Planar throughout, so the
        resizes and the residual's add need no transposes."""
        b = xy.shape[0]
        d = xy.index_select(1, self.flow_idx)  # (B,K,2) driven
        disp = self.src_flow_kp[None] - d
        g = self.grid_flow.t()  # (2,P)
        s = 0.5 * torch.exp(-2 * self.log_sigma)  # 1/(2 sigma^2); reexport.rebuild reads -2 log(sigma) off this Exp
        g_aug = torch.cat([g, g.pow(2).sum(0, keepdim=True), torch.ones_like(g[:1])], dim=0)  # (4,P)
        d_aug = torch.cat([2 * s * d, -s * torch.ones_like(d[:, :, :1]), -s * d.pow(2).sum(-1, keepdim=True)],
                          dim=2)  # (B,K,4)
        e = torch.exp(torch.matmul(d_aug, g_aug))  # (B,K,P)
        nd = torch.matmul(torch.cat([disp, torch.ones_like(disp[:, :, :1])], dim=2).transpose(1, 2), e)  # (B,3,P)
        prior = g[None] + nd[:, 0:2] / (nd[:, 2:3] + torch.exp(self.bg_logit))
        prior = prior.reshape(b, 2, FLOW_SIZE, FLOW_SIZE)
        hm = heatmaps(xy.index_select(1, self.motion_idx), MOTION_SIZE, 1.5 / MOTION_SIZE)
        p32 = F.interpolate(prior, size=(MOTION_SIZE, MOTION_SIZE), mode="bilinear", align_corners=False)
        grid32 = self.grid_motion.reshape(1, MOTION_SIZE, MOTION_SIZE, 2).permute(0, 3, 1, 2)
        res = self.motion(torch.cat([hm, (p32 - grid32) * 10.0], dim=1)) * 0.1  # (B,2,32,32)
        return prior + F.interpolate(res, size=(FLOW_SIZE, FLOW_SIZE), mode="bilinear", align_corners=False)

    def flow(self, xy: torch.Tensor) -> torch.Tensor:
        """(B,478,2) -> sampling positions (B,64,64,2) in [0,1]: prior + learned residual."""
        prior = self.prior_flow(xy)
        hm = heatmaps(xy.index_select(1, self.motion_idx), MOTION_SIZE, 1.5 / MOTION_SIZE)
        p32 = F.interpolate(prior.permute(0, 3, 1, 2), size=(MOTION_SIZE, MOTION_SIZE), mode="bilinear",
                            align_corners=False)
        grid32 = self.grid_motion.reshape(1, MOTION_SIZE, MOTION_SIZE, 2).permute(0, 3, 1, 2)
        res = self.motion(torch.cat([hm, (p32 - grid32) * 10.0], dim=1)) * 0.1  # (B,2,32,32)
        res = F.interpolate(res, size=(FLOW_SIZE, FLOW_SIZE), mode="bilinear", align_corners=False)
        return prior + res.permute(0, 2, 3, 1)

    def render(self, landmarks: torch.Tensor, feat: torch.Tensor, rgb: torch.Tensor) -> torch.Tensor:
        """landmarks (B,478,3); feat (128*128,16) and rgb (256*256,3) channels-last flattened appearance
        (rgb in [0,1]) -> (B,256,256,3) float RGB in ~[0,1], channels last. The training form
        (`render_export` is the export's faster one, the same pictures within a level)."""
        xy = landmarks[:, :, :2]
        b = xy.shape[0]
        pos = self.flow(xy).permute(0, 3, 1, 2)  # (B,2,64,64) in [0,1]
        p128 = F.interpolate(pos, size=(FEAT_SIZE, FEAT_SIZE), mode="bilinear", align_corners=False)
        p256 = F.interpolate(pos, size=(OUT_SIZE, OUT_SIZE), mode="bilinear", align_corners=False)
        wf = bilinear_sample(feat, p128.permute(0, 2, 3, 1).reshape(b, -1, 2), FEAT_SIZE)  # (B,P,16)
        wf = wf.reshape(b, FEAT_SIZE, FEAT_SIZE, FEAT_CH).permute(0, 3, 1, 2)
        hm = heatmaps(xy.index_select(1, self.region_idx), FEAT_SIZE, 2.0 / FEAT_SIZE)
        up = self.composite_terms(wf, hm).permute(0, 2, 3, 1)
        wrgb = bilinear_sample(rgb, p256.permute(0, 2, 3, 1).reshape(b, -1, 2), OUT_SIZE)
        return wrgb.reshape(b, OUT_SIZE, OUT_SIZE, 3) * up[..., 3:4] + up[..., 0:3]

    def composite_terms(self, wf: torch.Tensor, hm: torch.Tensor) -> torch.Tensor:
        """The decoder's share of the frame, upsampled: wf, hm as in `decode` -> (B,4,256,256) planar,
        channels 0-2 the colour to add (RGB residual over the kept reference plus generated RGB over
        the rest), channel 3 the warped reference's share (1 - blend mask)."""
        o = self.decode(wf, hm)
        res, gen, m = torch.tanh(o[:, 0:3]) * 0.5, torch.sigmoid(o[:, 3:6]), torch.sigmoid(o[:, 6:7])
        keep = 1 - m
        add = res * keep + gen * m
        return F.interpolate(torch.cat([add, keep], dim=1), size=(OUT_SIZE, OUT_SIZE), mode="bilinear",
                             align_corners=False)

    def decode(self, wf: torch.Tensor, hm: torch.Tensor) -> torch.Tensor:
        """wf (B,16,128,128) warped features, hm (B,20,128,128) region heatmaps -> (B,7,128,128):
        RGB residual, generated RGB, blend mask (logits)."""
        x = F.relu(self.down(torch.cat([wf, hm], dim=1)))  # 64x64
        x = F.relu(self.res2(F.relu(self.res1(x))))
        x = F.interpolate(x, scale_factor=2.0, mode="nearest")
        x = F.relu(self.up(torch.cat([x, wf], dim=1)))
        return self.out(x)

    def render_export(self, landmarks: torch.Tensor, rgb_rows: torch.Tensor) -> torch.Tensor:
        """`render` of the baked appearance in its export form -> frame uint8 (B,256,256,3).

        rgb_rows (256*256, 12) uint8: `corner_rows` of the reference RGB as 0..255 (exact: the
        reference is 8-bit). The same pictures as `render` within a level; what differs, each kept
        because onnxruntime ran the served int8 file faster with it: the flow in matmul + exp form
        and planar (`flow_export`); the warps' positions, gain and composite planar up to one
        gather per pixel (`corner_weights`, `bilinear_sample_planar`); the 256^2 RGB warp from uint8
        corners, weighted by a DequantizeLinear and summed by a Gemm that also adds the decoder's
        colour (`sample_corner_rows`)."""
        xy = landmarks[:, :, :2]
        b = xy.shape[0]
        pos = self.flow_export(xy)  # (B,2,64,64) in [0,1]
        p128 = F.interpolate(pos, size=(FEAT_SIZE, FEAT_SIZE), mode="bilinear", align_corners=False)
        p256 = F.interpolate(pos, size=(OUT_SIZE, OUT_SIZE), mode="bilinear", align_corners=False)
        wf = bilinear_sample_planar(self.baked_feat, p128[:, 0].reshape(b, -1), p128[:, 1].reshape(b, -1), FEAT_SIZE)
        wf = wf.reshape(b, FEAT_SIZE, FEAT_SIZE, FEAT_CH).permute(0, 3, 1, 2)
        hm = heatmaps(xy.index_select(1, self.region_idx), FEAT_SIZE, 2.0 / FEAT_SIZE)
        up = self.composite_terms(wf, hm)  # (B,4,256,256) planar
        # the reference's share, with the table's 0..255 scaled back to [0,1]
        idx, w = corner_weights(p256[:, 0].reshape(b, -1), p256[:, 1].reshape(b, -1), OUT_SIZE,
                                up[:, 3].reshape(b, -1) * (1.0 / 255.0))
        add_rows = up[:, 0:3].permute(0, 2, 3, 1).reshape(-1, 3)  # (B*P,3)
        y = sample_corner_rows(rgb_rows, idx, w, add_rows).reshape(b, OUT_SIZE, OUT_SIZE, 3)
        # (one QuantizeLinear instead of these five ops was measured no faster: not taken)
        return torch.clamp(torch.floor(y * 255.0 + 0.5), 0.0, 255.0).to(torch.uint8)

    def appearance(self, source_rgb: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """source_rgb (1,3,256,256) in [0,1] -> (feat (128*128,16), rgb (256*256,3)) for `render`."""
        feat = self.encoder(source_rgb)[0].permute(1, 2, 0).reshape(-1, FEAT_CH)
        return feat, source_rgb[0].permute(1, 2, 0).reshape(-1, 3)

    # ---- export form -------------------------------------------------------------------------
    @torch.no_grad()
    def bake(self, source_rgb: torch.Tensor) -> None:
        """Freezes the appearance: source_rgb (1,3,256,256) in [0,1], the clean reference image."""
        feat, rgb = self.appearance(source_rgb)
        self.baked_feat.copy_(feat)
        self.baked_rgb.copy_(rgb)

    def forward(self, landmarks: torch.Tensor) -> torch.Tensor:
        """landmarks float32 (B,478,3) -> frame uint8 (B,256,256,3) RGB (needs `bake` first)."""
        # The corner rows are derived from baked_rgb here (never stored, so never stale) and enter
        # the trace as a plain constant (the exporter would leave the uint8 Round/Cast in the graph).
        # Exact for a trained student (its reference is an 8-bit image / 255); a reference with finer
        # values (random bakes in tests and the bench's baseline) is rounded to 8 bits here.
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore", torch.jit.TracerWarning)  # a constant on purpose
            rgb8 = torch.round(self.baked_rgb * 255.0).to(torch.uint8)
            rgb_rows = torch.from_numpy(corner_rows(rgb8, OUT_SIZE).cpu().numpy().copy()).to(rgb8.device)
        return self.render_export(landmarks, rgb_rows)


def export_params(net: StudentNet) -> int:
    """Parameters of the exported graph: weights plus the baked appearance constants (not the encoder):
    the features and the reference RGB's bilinear corner rows (4 corners x 3 values per pixel)."""
    n = sum(p.numel() for name, p in net.named_parameters() if not name.startswith("encoder."))
    return int(n + net.baked_feat.numel() + 4 * net.baked_rgb.numel())  # the corner rows: 4 corners per RGB value


def count_flops(net: StudentNet) -> int:
    """FLOPs of one exported frame, counted with torch.utils.flop_counter (1 MAC = 2 FLOPs).

    The counter covers matmul/conv/etc.; element-wise ops (exp, softmax, grid_sample, interpolate)
    are not in its table, so they are added here from their sizes (a few MFLOPs)."""
    from torch.utils.flop_counter import FlopCounterMode

    lm = torch.rand(1, LANDMARKS, 3)
    with FlopCounterMode(display=False) as fc, torch.no_grad():
        net(lm)
    counted = int(fc.get_total_flops())
    k, km, kr = len(FLOW_KEYPOINTS), len(MOTION_KEYPOINTS), len(REGION_KEYPOINTS)
    elementwise = (
        FLOW_SIZE**2 * k * 6  # RBF logits, softmax
        + MOTION_SIZE**2 * km * 5 + FEAT_SIZE**2 * kr * 5  # heatmaps
        + FEAT_SIZE**2 * FEAT_CH * 8 + OUT_SIZE**2 * 3 * 8  # bilinear grid_sample
        + OUT_SIZE**2 * 7 * 8 + OUT_SIZE**2 * 3 * 6  # upsampling, composite
    )
    return counted + elementwise
