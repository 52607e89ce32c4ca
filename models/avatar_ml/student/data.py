"""The student's training set for one identity, all in its reference square at 256x256.

- **Real frames** (clip sources): the clip's frames in the training range with their VIDEO-mode
  landmarks (the browser's tracker), self-supervised reconstruction targets.
- **Teacher renders**: the motion library's clips (`models/motion_library`, minus the source clip
  itself, so a held-out range never leaks its motion) retargeted onto the identity's neutral
  landmarks and rendered by the teacher; poses and expressions the source never shows.
- The **source image**: the reference crop of the neutral frame (frame 0 of a clip, the portrait),
  from which the appearance is encoded (degraded now and then during training, see `degrade`).
- **Head motion** (`head_motion`, portraits by default): a share of the teacher renders is driven by
  the retargeted landmarks moved by a random in-plane head motion (`random_head_motion`), so a
  portrait student also sees the head far from where the source shows it (a portrait has no real
  frames, and the library's retargeted motion stays within ~0.3 face heights of the neutral pose).
- **Parted lips** (`lip_part`, recipe v3 for portraits): a share of the teacher renders is driven with
  the lower lip lowered to a random small-to-medium opening (`part_lips`), so a portrait student sees
  lips parted without the upper lip raised (talking), which the library's open mouths rarely show.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import cv2
import numpy as np

from .network import OUT_SIZE
from .reference import ReferenceSquare, reference_square
from .source import Source

MOTION_LIBRARY = Path(__file__).resolve().parents[2] / "motion_library"

ProgressFn = Callable[[str, int, int], None]  # (stage, step, total)


@dataclass
class TrainingSet:
    ref: ReferenceSquare
    neutral: np.ndarray  # (478,3) normalised to the reference square
    neutral_frame: int
    source_rgb: np.ndarray  # (256,256,3) uint8, reference crop of the neutral frame
    targets: np.ndarray  # (N,256,256,3) uint8
    landmarks: np.ndarray  # (N,478,3) float32, reference-square coordinates
    is_real: np.ndarray  # (N,) bool
    real_frame_index: np.ndarray  # (N,) clip frame index of real targets, -1 for teacher renders
    teacher_drivers: list[str]
    matte: str = "grabcut"

    def save(self, path: Path) -> None:
        tmp = path.with_suffix(".tmp.npz")
        np.savez(tmp, neutral=self.neutral, neutral_frame=self.neutral_frame, source_rgb=self.source_rgb,
                 targets=self.targets, landmarks=self.landmarks, is_real=self.is_real,
                 real_frame_index=self.real_frame_index, ref=json.dumps(self.ref.as_dict()),
                 drivers=json.dumps(self.teacher_drivers), matte=self.matte)
        tmp.replace(path)

    @staticmethod
    def load(path: Path) -> "TrainingSet":
        z = np.load(path)
        return TrainingSet(ReferenceSquare.from_dict(json.loads(str(z["ref"]))), z["neutral"], int(z["neutral_frame"]),
                           z["source_rgb"], z["targets"], z["landmarks"], z["is_real"], z["real_frame_index"],
                           json.loads(str(z["drivers"])), str(z["matte"]))


def track_source(source: Source, extractor, frames: int, progress: ProgressFn | None = None):
    """VIDEO-mode landmarks (browser-identical) of the first `frames` frames, in source-frame coordinates."""
    done = [0]

    def gen():
        for i in range(frames):
            yield source.frames[i]
            done[0] += 1
            if progress and (done[0] % 10 == 0 or done[0] == frames):
                progress("landmarks", done[0], frames)

    if source.kind == "portrait":
        face = extractor.detect(source.frames[0])
        from ..landmarks.track_io import LandmarkTrack

        ok = face is not None
        lm = face.landmarks[None] if ok else np.full((1, 478, 3), np.nan, np.float32)
        tr = face.transform[None] if ok else np.full((1, 4, 4), np.nan, np.float32)
        return LandmarkTrack(lm, tr, np.array([ok]), 25.0, source.width, source.height, str(source.path))
    return extractor.track(gen(), fps=source.fps, source=str(source.path))


def motion_drivers(exclude_sha256: str, library: Path = MOTION_LIBRARY,
                   exclude_names: tuple[str, ...] = ()) -> list[tuple[str, "object"]]:
    """(name, LandmarkTrack) of the motion library's video tracks, minus the one from the source itself
    (same sha256) and any named in `exclude_names` (e.g. the clip a portrait was cut from, when it is scored on it)."""
    from ..landmarks.track_io import load_track

    index = json.loads((library / "index.json").read_text())
    out = []
    for c in index["clips"]:
        if c["kind"] != "video" or c["sha256"] == exclude_sha256 or c["clip"] in exclude_names:
            continue
        out.append((c["clip"], load_track(library / c["file"])))
    return out


@dataclass(frozen=True)
class HeadMotionRange:
    """Ranges of `random_head_motion`, in units of the neutral face height (landmarks 10 to 152):
    translation `dx` (either way), `dy_up` / `dy_down`, scale (head nearer or further), roll in degrees."""

    dx: float = 0.5
    dy_up: float = 0.3
    dy_down: float = 0.35
    scale: tuple[float, float] = (0.9, 1.25)
    roll_deg: float = 10.0


def random_head_motion(lm: np.ndarray, neutral: np.ndarray, size: tuple[int, int], rng: np.random.Generator,
                       ranges: HeadMotionRange = HeadMotionRange()) -> np.ndarray:
    """Driving landmarks (478,3), normalised to a `size` = (width, height) frame, moved rigidly in the
    image plane: rotated by a roll and scaled about their face-oval centre, then translated, each drawn
    uniformly from `ranges` (face heights of `neutral`, (478,3) normalised like `lm`). z scales with
    the head. Returns (478,3) float32 normalised like `lm`; the expression is untouched."""
    from ..teacher.topology import FACE_OVAL

    w, h = size
    px = np.asarray(lm, np.float64)[:, :2] * np.array([w, h])
    fh = float(np.linalg.norm((neutral[10, :2] - neutral[152, :2]) * np.array([w, h])))
    c = px[FACE_OVAL].mean(axis=0)
    a = np.radians(rng.uniform(-ranges.roll_deg, ranges.roll_deg))
    s = rng.uniform(*ranges.scale)
    rot = s * np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    t = np.array([rng.uniform(-ranges.dx, ranges.dx), rng.uniform(-ranges.dy_up, ranges.dy_down)]) * fh
    moved = (px - c) @ rot.T + c + t
    out = np.array(lm, np.float32, copy=True)
    out[:, 0] = moved[:, 0] / w
    out[:, 1] = moved[:, 1] / h
    out[:, 2] = out[:, 2] * s
    return out


LIP_PART_OPENING = (0.05, 0.4)  # target mouth openings (inner-lip gap / mouth width) of `part_lips`
# MediaPipe lower-lip points (inner and outer contour, the ring between them), corners excluded: they
# move fully with the parted lower lip; the corners stay put
LOWER_LIP = np.array([95, 88, 178, 87, 14, 317, 402, 318, 324, 146, 91, 181, 84, 17, 314, 405, 321, 375,
                      96, 89, 179, 86, 15, 316, 403, 319, 325, 77, 90, 180, 85, 16, 315, 404, 320, 307])
MOUTH_CORNERS = np.array([78, 308, 61, 291, 62, 292, 76, 306])
UPPER_LIP = np.array([191, 80, 81, 82, 13, 312, 311, 310, 415, 185, 40, 39, 37, 0, 267, 269, 270, 409,
                      183, 42, 41, 38, 12, 268, 271, 272, 407, 184, 74, 73, 72, 11, 302, 303, 304, 408])


def part_lips(lm: np.ndarray, size: tuple[int, int], target_opening: float) -> np.ndarray:
    """Driving landmarks (478,3), normalised to a `size` = (width, height) frame, with the lips parted
    to `target_opening` (teacher.topology.mouth_opening: inner-lip gap over inner mouth width) by
    lowering the lower lip and the chin below it (a jaw drop that does not retract the lips); the upper
    lip, the corners and everything above the corner line stay put. Unchanged if the mouth is already at
    least that open. The weight falls off sideways (full within the mouth, zero at 1.6 half-widths)
    and is full from 0.3 half-widths below the corner line down. Returns (478,3) float32."""
    from ..teacher.topology import mouth_opening

    w, h = size
    out = np.array(lm, np.float32, copy=True)
    cur = float(mouth_opening(out))
    if cur >= target_opening:
        return out
    px = np.asarray(lm, np.float64)[:, :2] * np.array([w, h])
    left, right = px[78], px[308]
    half = float(np.linalg.norm(right - left)) / 2
    if half < 1e-6:
        return out
    ex = (right - left) / (2 * half)
    ey = np.array([-ex[1], ex[0]])
    centre = (left + right) / 2
    if float((px[152] - centre) @ ey) < 0:  # "down" points to the chin
        ey = -ey
    u = (px - centre) @ ex
    v = (px - centre) @ ey
    wu = np.clip(1 - (u / (1.6 * half)) ** 2, 0, 1)
    wv = np.clip(v / (0.3 * half), 0, 1)
    wv[LOWER_LIP] = 1.0
    wv[MOUTH_CORNERS] = 0.0
    wv[UPPER_LIP] = 0.0  # a closed mouth's upper inner lip may sit below the corner line
    delta = (target_opening - cur) * 2 * half  # pixels: the added gap at the mouth's middle
    moved = px + (wu * wv)[:, None] * delta * ey
    out[:, 0] = moved[:, 0] / w
    out[:, 1] = moved[:, 1] / h
    return out


def teacher_renders(source: Source, neutral_frame: int, neutral_px: np.ndarray, ref: ReferenceSquare,
                    count: int, progress: ProgressFn | None = None, seed: int = 0,
                    exclude_sha256: str | None = None,
                    exclude_names: tuple[str, ...] = (), matte: str = "grabcut",
                    head_motion: float = 0.0, lip_part: float = 0.0,
                    neutral: str = "first") -> tuple[np.ndarray, np.ndarray, list[str]]:
    """`count` teacher frames (256x256 uint8, reference square) over the retargeted motion library,
    with their driving landmarks (reference coordinates). `neutral_px`: (478,3) in source-frame coordinates.
    `matte`: the teacher's person matte, "grabcut" (its own) or "selfie" (the learned selfie matte).
    `head_motion`: the share of frames (0..1, drawn per frame) whose driving landmarks get a random
    in-plane head motion (`random_head_motion`) on top of the retargeted one.
    `lip_part`: the share of frames (0..1, drawn per frame) whose lips are parted (`part_lips`) to an
    opening drawn uniformly from `LIP_PART_OPENING`, before any head motion.
    `neutral`: each library clip's retarget neutral frame, "first" (its first valid frame) or
    "closed-mouth" (`landmarks.retarget.closed_mouth_frame`: no lips pushed through each other when the
    clip starts with the mouth open)."""
    if not 0.0 <= head_motion <= 1.0:
        raise ValueError(f"head_motion must be in [0, 1], got {head_motion}")
    if not 0.0 <= lip_part <= 1.0:
        raise ValueError(f"lip_part must be in [0, 1], got {lip_part}")
    from ..landmarks.retarget import driver_neutral, retarget
    from ..teacher import TeacherConfig, TeacherRenderer

    side = int(round(ref.side))
    crop = ref.crop(source.frames[neutral_frame], min(side, 512))
    neutral_ref = ref.to_reference(neutral_px)
    teacher = TeacherRenderer.create(crop, neutral_ref, config=TeacherConfig(out_size=OUT_SIZE))
    if matte == "selfie":
        from ..teacher.matting import background_plate
        from .selfie_matte import SelfieMatte

        teacher.alpha = SelfieMatte().alpha(teacher.source)
        teacher.background = background_plate(teacher.source, teacher.alpha,
                                              keep_below=teacher.config.plate_keep_below).astype(np.float32)
    elif matte != "grabcut":
        raise ValueError(f"unknown teacher matte {matte!r} (grabcut or selfie)")
    drivers = motion_drivers(exclude_sha256 or source.sha256, exclude_names=exclude_names)
    rng = np.random.default_rng(seed)
    lip_rng = np.random.default_rng([seed, 1])  # its own stream: the frames picked and head motions stay as without it
    per = int(np.ceil(count / max(len(drivers), 1)))
    lms = []
    names = []
    for name, track in drivers:
        valid = np.nonzero(track.valid)[0]
        if len(valid) == 0:
            continue
        rt = retarget(track, driver_neutral(track, neutral), neutral_px, (source.width, source.height))
        ok = np.nonzero(rt.valid & np.all(np.isfinite(rt.landmarks), axis=(1, 2)))[0]
        pick = np.sort(rng.choice(ok, size=min(per, len(ok)), replace=False))
        driven = rt.landmarks[pick]
        size = (source.width, source.height)
        if lip_part > 0:
            driven = np.stack([part_lips(d, size, float(lip_rng.uniform(*LIP_PART_OPENING)))
                               if lip_rng.random() < lip_part else d for d in driven])
        if head_motion > 0:
            driven = np.stack([random_head_motion(d, neutral_px, size, rng) if rng.random() < head_motion else d
                               for d in driven])
        lms.append(ref.to_reference(driven))
        names.append(name)
    lm = np.concatenate(lms)[:count] if lms else np.zeros((0, 478, 3), np.float32)
    # portraits have no real frames: the identity pose itself is the one real target
    frames = np.zeros((len(lm), OUT_SIZE, OUT_SIZE, 3), np.uint8)
    for i in range(len(lm)):
        frames[i] = teacher.render(lm[i])
        if progress and ((i + 1) % 10 == 0 or i + 1 == len(lm)):
            progress("teacher", i + 1, len(lm))
    return frames, lm.astype(np.float32), names


def build_training_set(source: Source, extractor, train_frames: int, teacher_count: int,
                       progress: ProgressFn | None = None, track=None,
                       exclude_motion: tuple[str, ...] = (), matte: str = "grabcut",
                       head_motion: float = 0.0, lip_part: float = 0.0, driver_neutral: str = "first") -> TrainingSet:
    """Everything `train` fits on. `train_frames`: how many leading clip frames are training data."""
    if track is None:
        track = track_source(source, extractor, train_frames if source.kind == "clip" else 1, progress)
    valid = np.nonzero(track.valid)[0]
    if len(valid) == 0:
        from .source import SourceError

        raise SourceError("NO_FACE", f"No face could be tracked in {source.path.name}.")
    neutral_frame = int(valid[0])
    neutral_px = track.landmarks[neutral_frame]
    ref = reference_square(neutral_px, source.width, source.height)
    neutral = ref.to_reference(neutral_px)
    source_rgb = ref.crop(source.frames[neutral_frame], OUT_SIZE)
    t_frames, t_lm, names = teacher_renders(source, neutral_frame, neutral_px, ref, teacher_count, progress,
                                            exclude_names=exclude_motion, matte=matte, head_motion=head_motion,
                                            lip_part=lip_part, neutral=driver_neutral)
    if source.kind == "clip":
        r_idx = valid[valid < train_frames]
        r_frames = np.stack([ref.crop(source.frames[i], OUT_SIZE) for i in r_idx])
        r_lm = ref.to_reference(track.landmarks[r_idx])
    else:
        r_idx = np.array([0])
        r_frames = source_rgb[None]
        r_lm = neutral[None]
    targets = np.concatenate([r_frames, t_frames])
    landmarks = np.concatenate([r_lm, t_lm]).astype(np.float32)
    is_real = np.concatenate([np.ones(len(r_frames), bool), np.zeros(len(t_frames), bool)])
    real_idx = np.concatenate([r_idx, -np.ones(len(t_frames), int)])
    return TrainingSet(ref, neutral.astype(np.float32), neutral_frame, source_rgb, targets, landmarks, is_real,
                       real_idx, names, matte)


def degrade(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """SSR-style source degradation: one or two of blur, noise, JPEG, down-up scaling (uint8 RGB)."""
    out = rgb
    ops = rng.choice(4, size=rng.integers(1, 3), replace=False)
    for op in ops:
        if op == 0:
            out = cv2.GaussianBlur(out, (0, 0), float(rng.uniform(0.6, 2.0)))
        elif op == 1:
            out = np.clip(out + rng.normal(0, rng.uniform(2, 8), out.shape), 0, 255).astype(np.uint8)
        elif op == 2:
            ok, buf = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(15, 60))])
            out = cv2.imdecode(buf, cv2.IMREAD_UNCHANGED)
        else:
            f = float(rng.uniform(2, 4))
            s = max(int(OUT_SIZE / f), 8)
            out = cv2.resize(cv2.resize(out, (s, s), interpolation=cv2.INTER_AREA), (OUT_SIZE, OUT_SIZE),
                             interpolation=cv2.INTER_CUBIC)
    return np.ascontiguousarray(out)
