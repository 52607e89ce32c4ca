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
   composited over the warped reference RGB (in the export, that warp reads a baked table of
   bilinear corner terms: `bilinear_sample_table`, the same values in fewer onnxruntime ops).

Training form: `render(landmarks, appearance)` with `appearance = encode(source_rgb)`, so the
source can be degraded during training and the encoder's output on the clean source baked at export
(`bake()`), after which `forward` needs only landmarks.

FLOPs (torch.utils.flop_counter, 1 MAC = 2 FLOPs): `count_flops()`; about 0.74 GFLOPs per frame.
"""

from __future__ import annotations

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


def corner_table(image: torch.Tensor, size: int) -> torch.Tensor:
    """image (H*W, C) channels-last rows of a size x size image -> (H*W, 4C): per top-left pixel the
    bilinear terms [v00, v01 - v00, v10 - v00, v11 - v10 - v01 + v00] (rows at the last column/row
    wrap around; `bilinear_sample_table` never reads them, its top-left index stops at size - 2)."""
    c = image.shape[1]
    img = image.reshape(size, size, c)
    v01 = torch.roll(img, shifts=-1, dims=1)
    v10 = torch.roll(img, shifts=-1, dims=0)
    v11 = torch.roll(v10, shifts=-1, dims=1)
    return torch.cat([img, v01 - img, v10 - img, v11 - v10 - v01 + img], dim=2).reshape(size * size, 4 * c)


def bilinear_sample_table(table: torch.Tensor, pos: torch.Tensor, size: int, gain: torch.Tensor) -> torch.Tensor:
    """`bilinear_sample` of the image behind `table` (corner_table), times `gain`, in few cheap ops.

    table (H*W, 4C); pos (B, P, 2) as in bilinear_sample; gain (B, P, 1) -> (B, P, C) =
    gain * (v00 + fx (v01-v00) + fy (v10-v00) + fx fy (v11-v10-v01+v00)), the same bilinear value.
    Why: onnxruntime's broadcasting multiply of (P, 3) by (P, 1) is slow (~0.7 ms each at 256x256 on
    this CPU, four of them plus four gathers in the plain form); here one gather of 4C-wide rows, the
    per-pixel weights widened by a tiny matmul, one same-shape multiply and a matmul that sums the
    four terms (measured: the whole student ~20 % faster). Export-only: training uses bilinear_sample."""
    c = table.shape[1] // 4
    p = torch.clamp(pos * size - 0.5, 0.0, size - 1.0)
    p0 = torch.clamp(torch.floor(p), 0.0, size - 2.0)
    f = p - p0
    i0 = p0.to(torch.int64)
    idx = (i0[..., 1] * size + i0[..., 0]).reshape(-1)
    gx = gain * f[..., 0:1]
    w = torch.cat([gain, gx, gain * f[..., 1:2], gx * f[..., 1:2]], dim=2)  # (B,P,4)
    widen = torch.repeat_interleave(torch.eye(4, dtype=table.dtype), c, dim=1)  # (4, 4C)
    terms = table.index_select(0, idx).reshape(pos.shape[0], pos.shape[1], 4 * c)
    summing = torch.cat([torch.eye(c, dtype=table.dtype)] * 4, dim=0)  # (4C, C)
    return torch.matmul(torch.matmul(w, widen) * terms, summing)


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

    def render(self, landmarks: torch.Tensor, feat: torch.Tensor, rgb: torch.Tensor,
               rgb_table: torch.Tensor | None = None) -> torch.Tensor:
        """landmarks (B,478,3); feat (128*128,16) and rgb (256*256,3) channels-last flattened appearance
        (rgb in [0,1]) -> (B,256,256,3) float RGB in ~[0,1], channels last. With `rgb_table`
        (corner_table(rgb)) the RGB warp takes the export's faster, equivalent form."""
        xy = landmarks[:, :, :2]
        b = xy.shape[0]
        pos = self.flow(xy).permute(0, 3, 1, 2)  # (B,2,64,64) in [0,1]
        p128 = F.interpolate(pos, size=(FEAT_SIZE, FEAT_SIZE), mode="bilinear", align_corners=False)
        p256 = F.interpolate(pos, size=(OUT_SIZE, OUT_SIZE), mode="bilinear", align_corners=False)
        wf = bilinear_sample(feat, p128.permute(0, 2, 3, 1).reshape(b, -1, 2), FEAT_SIZE)  # (B,P,16)
        wf = wf.reshape(b, FEAT_SIZE, FEAT_SIZE, FEAT_CH).permute(0, 3, 1, 2)
        hm = heatmaps(xy.index_select(1, self.region_idx), FEAT_SIZE, 2.0 / FEAT_SIZE)
        x = F.relu(self.down(torch.cat([wf, hm], dim=1)))  # 64x64
        x = F.relu(self.res2(F.relu(self.res1(x))))
        x = F.interpolate(x, scale_factor=2.0, mode="nearest")
        x = F.relu(self.up(torch.cat([x, wf], dim=1)))
        o = self.out(x)  # (B,7,128,128): residual, generated RGB, blend mask (logits)
        res, gen, m = torch.tanh(o[:, 0:3]) * 0.5, torch.sigmoid(o[:, 3:6]), torch.sigmoid(o[:, 6:7])
        keep = 1 - m  # the warped reference's share
        add = res * keep + gen * m
        up = F.interpolate(torch.cat([add, keep], dim=1), size=(OUT_SIZE, OUT_SIZE), mode="bilinear",
                           align_corners=False).permute(0, 2, 3, 1)
        pos256 = p256.permute(0, 2, 3, 1).reshape(b, -1, 2)
        if rgb_table is None:
            wrgb = bilinear_sample(rgb, pos256, OUT_SIZE).reshape(b, OUT_SIZE, OUT_SIZE, 3)
            return wrgb * up[..., 3:4] + up[..., 0:3]
        kept = bilinear_sample_table(rgb_table, pos256, OUT_SIZE, up[..., 3:4].reshape(b, -1, 1))
        return kept.reshape(b, OUT_SIZE, OUT_SIZE, 3) + up[..., 0:3]

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
        # The corner table is derived from baked_rgb here (never stored, so never stale); in the
        # ONNX export it is a function of constants only, so the exporter folds it into one constant.
        y = self.render(landmarks, self.baked_feat, self.baked_rgb, corner_table(self.baked_rgb, OUT_SIZE))
        y = torch.clamp(torch.floor(y * 255.0 + 0.5), 0.0, 255.0)
        return y.to(torch.uint8)


def export_params(net: StudentNet) -> int:
    """Parameters of the exported graph: weights plus the baked appearance constants (not the encoder):
    the features and the reference RGB's bilinear corner table (4 x 3 values per pixel)."""
    n = sum(p.numel() for name, p in net.named_parameters() if not name.startswith("encoder."))
    return int(n + net.baked_feat.numel() + 4 * net.baked_rgb.numel())  # the corner table: 4 terms per RGB value


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
