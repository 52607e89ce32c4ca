"""The optimisation loop: one identity's student fitted to its training set, with checkpoints.

`Trainer(ts, recipe, work_dir).run(on_step)` trains for `recipe.steps`, saving `work_dir/ckpt.pt`
(atomically) every `recipe.checkpoint_every` steps and at the end, and resumes from it when present.
Batches mix real clip frames (probability `recipe.p_real` when the source is a clip) and teacher
renders; the appearance is encoded from the source, degraded with probability `recipe.p_degrade`.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from .data import TrainingSet, degrade
from .losses import PatchDiscriminator, gan_losses, reconstruction_loss, region_weights
from .network import StudentNet


@dataclass(frozen=True)
class Recipe:
    steps: int = 600
    batch: int = 4
    lr: float = 2e-3
    lr_min: float = 1e-4
    teacher_frames: int = 240
    p_real: float = 0.7  # share of real clip frames in a batch (clip sources)
    p_degrade: float = 0.3  # source degraded for this step's appearance
    region_gain: float = 3.0  # extra weight on eyes and mouth
    ssim_weight: float = 1.0
    gan_weight: float = 0.01
    gan_from: float | None = 0.75  # fraction of steps after which the PatchGAN is on (None: never)
    checkpoint_every: int = 100
    preview_every: int = 250
    eval_frames: int = 40
    seed: int = 0
    head_motion: float = 0.0  # share of teacher renders given a random head motion (data.random_head_motion)
    lip_part: float = 0.0  # share of teacher renders with the lips parted (data.part_lips)
    driver_neutral: str = "first"  # the library clips' retarget neutral: "first" or "closed-mouth" (data.teacher_renders)

    def as_dict(self) -> dict:
        return asdict(self)


PRESETS: dict[str, Recipe] = {
    # a rough student in ~1-2 minutes (and the protocol tests' tiny real run with --steps 20)
    "fast": Recipe(steps=300, batch=2, teacher_frames=24, gan_from=None, checkpoint_every=50, preview_every=100,
                   eval_frames=8),
    # the onboarding default: ~10-15 minutes of one core of the shared (loaded) 2-core machine
    "default": Recipe(),
}

# portraits have no real frames of the head moving: half their teacher renders get a random head motion
# (models/README.md, "Portrait-only onboarding"); clips learn the motion from their own frames
PORTRAIT_HEAD_MOTION = 0.5
# portraits' share of teacher renders with parted lips (data.part_lips): off until measured
PORTRAIT_LIP_PART = 0.0
# portraits' retarget neutral of the library clips (data.teacher_renders): off ("first") until measured
PORTRAIT_DRIVER_NEUTRAL = "first"


def recipe_for(preset: str, source_kind: str, steps: int | None = None, head_motion: float | None = None,
               teacher_frames: int | None = None, lip_part: float | None = None,
               driver_neutral: str | None = None) -> Recipe:
    """The recipe of `preset` for a "clip" or "portrait" source: portraits get `PORTRAIT_HEAD_MOTION`
    unless `head_motion` (0..1) is given; `steps` and `teacher_frames` override the preset's."""
    r = PRESETS[preset]
    if teacher_frames is not None:
        if teacher_frames < 1:
            raise ValueError(f"teacher_frames must be >= 1, got {teacher_frames}")
        r = replace(r, teacher_frames=int(teacher_frames))
    if head_motion is None:
        head_motion = PORTRAIT_HEAD_MOTION if source_kind == "portrait" else 0.0
    if not 0.0 <= head_motion <= 1.0:
        raise ValueError(f"head_motion must be in [0, 1], got {head_motion}")
    r = replace(r, head_motion=float(head_motion))
    if lip_part is None:
        lip_part = PORTRAIT_LIP_PART if source_kind == "portrait" else 0.0
    if not 0.0 <= lip_part <= 1.0:
        raise ValueError(f"lip_part must be in [0, 1], got {lip_part}")
    r = replace(r, lip_part=float(lip_part))
    if driver_neutral is None:
        driver_neutral = PORTRAIT_DRIVER_NEUTRAL if source_kind == "portrait" else "first"
    if driver_neutral not in ("first", "closed-mouth"):
        raise ValueError(f"driver_neutral must be 'first' or 'closed-mouth', got {driver_neutral!r}")
    r = replace(r, driver_neutral=driver_neutral)
    if steps is not None:
        r = replace(r, steps=int(steps), checkpoint_every=min(r.checkpoint_every, max(10, steps // 5)))
    return r


StepFn = Callable[[int, int, float, "torch.Tensor | None"], None]  # (step, total, loss, preview_pair)


def _to_t(u8: np.ndarray) -> torch.Tensor:
    """(…,H,W,3) uint8 -> (…,3,H,W) float in [0,1]."""
    t = torch.from_numpy(np.ascontiguousarray(u8)).float() / 255.0
    return t.permute(0, 3, 1, 2) if t.ndim == 4 else t.permute(2, 0, 1)


class Trainer:
    def __init__(self, ts: TrainingSet, recipe: Recipe, work_dir: Path) -> None:
        self.ts, self.recipe, self.work_dir = ts, recipe, work_dir
        torch.manual_seed(recipe.seed)
        self.net = StudentNet(ts.neutral)
        self.disc = PatchDiscriminator()
        self.opt = torch.optim.Adam(self.net.parameters(), lr=recipe.lr, betas=(0.5, 0.99))
        self.opt_d = torch.optim.Adam(self.disc.parameters(), lr=recipe.lr * 0.5, betas=(0.5, 0.99))
        self.step = 0
        self.train_s = 0.0  # optimisation wall time so far (survives resume)
        self.rng = np.random.default_rng(recipe.seed)
        self.source = _to_t(ts.source_rgb)[None]
        self.real_idx = np.nonzero(ts.is_real)[0]
        self.teacher_idx = np.nonzero(~ts.is_real)[0]
        self.landmarks = torch.from_numpy(ts.landmarks)
        self.loss_ema: float | None = None
        self.curve: list[tuple[int, float, float]] = []  # (step, optimisation s, held-out SSIM)

    @property
    def ckpt_path(self) -> Path:
        return self.work_dir / "ckpt.pt"

    def save(self) -> None:
        tmp = self.ckpt_path.with_suffix(".tmp")
        torch.save({"net": self.net.state_dict(), "disc": self.disc.state_dict(), "opt": self.opt.state_dict(),
                    "opt_d": self.opt_d.state_dict(), "step": self.step, "train_s": self.train_s,
                    "rng": self.rng.bit_generator.state, "torch_rng": torch.get_rng_state(),
                    "loss_ema": self.loss_ema, "curve": self.curve}, tmp)
        tmp.replace(self.ckpt_path)

    def load(self) -> bool:
        if not self.ckpt_path.is_file():
            return False
        ck = torch.load(self.ckpt_path, weights_only=False)
        self.net.load_state_dict(ck["net"])
        self.disc.load_state_dict(ck["disc"])
        self.opt.load_state_dict(ck["opt"])
        self.opt_d.load_state_dict(ck["opt_d"])
        self.step, self.train_s, self.loss_ema = int(ck["step"]), float(ck["train_s"]), ck["loss_ema"]
        self.curve = [tuple(c) for c in ck.get("curve", [])]
        self.rng.bit_generator.state = ck["rng"]
        torch.set_rng_state(ck["torch_rng"])
        return True

    def fit_to_budget(self, seconds_left: float, min_steps: int, max_steps: int | None = None) -> int | None:
        """Re-fits the step count so the remaining steps fit in `seconds_left` at the mean step time so
        far: shorter when the machine is slower than planned, longer again (up to `max_steps`, the
        planned count; default: the current count, i.e. never longer) when it got faster after an
        earlier cut; never below `min_steps`. The cosine learning-rate and the PatchGAN's start follow
        the new length. Returns the new step count, or None if unchanged."""
        if self.step == 0 or self.step >= self.recipe.steps:  # not started, or the run is complete
            return None
        per = self.train_s / self.step
        time_fit = self.step + int(seconds_left / per)
        if time_fit > self.recipe.steps:  # room for more: lengthen, at most to the planned count
            fit = min(self.recipe.steps if max_steps is None else max_steps, time_fit)
            if fit <= self.recipe.steps:
                return None
        else:  # shorten, never below the floor nor before the current step
            fit = max(min_steps, self.step + 1, time_fit)
            if fit >= self.recipe.steps:
                return None
        self.recipe = replace(self.recipe, steps=fit)
        return fit

    def _lr(self) -> float:
        r = self.recipe
        return r.lr_min + 0.5 * (r.lr - r.lr_min) * (1 + math.cos(math.pi * min(self.step / max(r.steps, 1), 1.0)))

    def _batch(self) -> np.ndarray:
        r = self.recipe
        clip = len(self.real_idx) > 1
        p_real = r.p_real if clip else (0.1 if len(self.teacher_idx) else 1.0)
        if not len(self.teacher_idx):
            p_real = 1.0
        n_real = int(self.rng.binomial(r.batch, p_real))
        pick = []
        if n_real:
            pick.append(self.rng.choice(self.real_idx, n_real))
        if r.batch - n_real:
            pick.append(self.rng.choice(self.teacher_idx, r.batch - n_real))
        return np.concatenate(pick)

    def train_step(self) -> float:
        r = self.recipe
        for g in self.opt.param_groups:
            g["lr"] = self._lr()
        idx = self._batch()
        src_u8 = self.ts.source_rgb
        if self.rng.random() < r.p_degrade:
            src_u8 = degrade(src_u8, self.rng)
        feat, rgb = self.net.appearance(_to_t(src_u8)[None])
        lm = self.landmarks[idx]
        target = _to_t(self.ts.targets[idx])
        pred = self.net.render(lm, feat, rgb).permute(0, 3, 1, 2)
        w = region_weights(lm, r.region_gain)
        loss, _ = reconstruction_loss(pred, target, w, r.ssim_weight)
        gan_on = r.gan_from is not None and self.step >= r.gan_from * r.steps
        total = loss
        if gan_on:
            g_loss, d_loss = gan_losses(self.disc, pred, target)
            total = loss + r.gan_weight * g_loss
        self.opt.zero_grad(set_to_none=True)
        total.backward()
        torch.nn.utils.clip_grad_norm_(self.net.parameters(), 1.0)
        self.opt.step()
        if gan_on:
            self.opt_d.zero_grad(set_to_none=True)
            d_loss.backward()
            self.opt_d.step()
        v = float(loss)
        self.loss_ema = v if self.loss_ema is None else 0.95 * self.loss_ema + 0.05 * v
        return v

    @torch.no_grad()
    def preview(self) -> np.ndarray:
        """(256, 1024, 3) uint8: [real target | student] for one real frame and one teacher render."""
        self.net.eval()
        feat, rgb = self.net.appearance(self.source)
        picks = [i for i in (self.real_idx[len(self.real_idx) // 2] if len(self.real_idx) else None,
                             self.teacher_idx[len(self.teacher_idx) // 2] if len(self.teacher_idx) else None)
                 if i is not None]
        out = self.net.render(self.landmarks[picks], feat, rgb).clamp(0, 1).mul(255).round().byte().numpy()
        self.net.train()
        tiles = [np.concatenate([self.ts.targets[i], o], axis=1) for i, o in zip(picks, out)]
        return np.concatenate(tiles, axis=1)

    @torch.no_grad()
    def held_out_ssim(self, frames: np.ndarray, landmarks: np.ndarray) -> float:
        """Mean SSIM (the harness's metric) of the student on held-out (frames (N,256,256,3), landmarks (N,478,3))."""
        from ..eval.metrics import ssim

        self.net.eval()
        feat, rgb = self.net.appearance(self.source)
        out = self.net.render(torch.as_tensor(landmarks), feat, rgb).clamp(0, 1).mul(255).round().byte().numpy()
        self.net.train()
        return float(np.mean([ssim(o, f) for o, f in zip(out, frames)]))

    def run(self, on_step: Callable[[int, int, float], None], on_preview: Callable[[int, np.ndarray], None],
            should_stop: Callable[[], bool] = lambda: False,
            held_out: tuple[np.ndarray, np.ndarray] | None = None) -> None:
        """Trains to `recipe.steps`. With `held_out` (frames, landmarks), the held-out SSIM is measured at
        every preview and at the end, appended to `self.curve` as (step, optimisation seconds, ssim)."""
        self.net.train()
        last_ckpt = time.perf_counter()
        while self.step < self.recipe.steps:  # re-read: a time budget may shorten the run (train.py)
            t0 = time.perf_counter()
            self.train_step()
            self.step += 1
            self.train_s += time.perf_counter() - t0
            on_step(self.step, self.recipe.steps, float(self.loss_ema))
            r = self.recipe
            if held_out is not None and (self.step % r.preview_every == 0 or self.step == r.steps):
                self.curve.append((self.step, round(self.train_s, 1), round(self.held_out_ssim(*held_out), 4)))
            if self.step % r.preview_every == 0 and self.step < r.steps:
                on_preview(self.step, self.preview())
            if self.step % r.checkpoint_every == 0 or time.perf_counter() - last_ckpt > 60:
                self.save()
                last_ckpt = time.perf_counter()
            if should_stop():
                break
        self.save()

    def baked(self) -> StudentNet:
        """The student with its appearance frozen from the clean source, ready to export."""
        self.net.eval()
        self.net.bake(self.source)
        return self.net
