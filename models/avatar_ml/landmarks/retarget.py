"""Motion retargeting: a driver's head pose and expression drive a target identity's landmarks.

Everything happens in MediaPipe's metric face space (geometry.GeometryPipeline), where a face's
landmarks split into a pose-free shape (canonical frame, cm) and a pose (the facial transformation
matrix). For driver frame t and the driver's own neutral frame n:

- expression: the pose-free deltas  D_t = M_driver[t] - M_driver[n]  (all 478 points, irises too),
  scaled per axis by the target/driver face proportions (width, height), are added to the target's
  pose-free shape: the target keeps its own face shape, the driver only contributes motion;
- pose: the driver's rotation relative to its neutral, R_t R_n^T, is applied on top of the target's
  own rotation; the driver's translation relative to its neutral is added to the target's, scaled by
  the ratio of their camera distances so the motion keeps the same size relative to the face;
- the result is projected back with the target's camera (its image size) into normalized screen
  landmarks, the browser's coordinates.

A driver retargeted onto its own neutral frame reproduces itself.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .canonical_mesh import DEFAULT_TASK_PATH, load_canonical_mesh
from .geometry import GeometryPipeline
from .track_io import LandmarkTrack

# landmark pairs that measure face proportions (MediaPipe face mesh indices)
FACE_WIDTH = (234, 454)  # cheek to cheek
FACE_HEIGHT = (10, 152)  # forehead to chin
EYE_OUTER = (33, 263)


def face_proportions(metric: np.ndarray) -> np.ndarray:
    """(…,P,3) pose-free metric landmarks -> (…,3) per-axis size: face width, face height, their mean."""
    w = np.linalg.norm(metric[..., FACE_WIDTH[0], :] - metric[..., FACE_WIDTH[1], :], axis=-1)
    h = np.linalg.norm(metric[..., FACE_HEIGHT[0], :] - metric[..., FACE_HEIGHT[1], :], axis=-1)
    return np.stack([w, h, (w + h) / 2], axis=-1)


NEUTRAL_CHOICES = ("first", "closed-mouth")


def closed_mouth_frame(driver: LandmarkTrack, tol: float = 0.02) -> int:
    """The driver's first valid frame whose mouth opening (teacher.topology.mouth_opening: inner-lip gap
    over mouth width) is within `tol` of its smallest: a retarget neutral with the mouth closed.

    Why: `retarget` transfers the expression as a difference from the neutral frame, onto a target whose
    mouth is (normally) closed. A neutral with the mouth open (WDA_KatieHill_000's frame 0: 0.198, more
    open than 53 % of its frames) turns every more-closed driver frame into lips pushed through each
    other on the target (lower inner lip above the upper one). Raises ValueError without a valid frame."""
    from ..teacher.topology import mouth_opening

    valid = np.nonzero(driver.valid & np.all(np.isfinite(driver.landmarks), axis=(1, 2)))[0]
    if len(valid) == 0:
        raise ValueError("the driver has no valid frame")
    o = mouth_opening(driver.landmarks[valid])
    return int(valid[np.nonzero(o <= o.min() + tol)[0][0]])


def driver_neutral(driver: LandmarkTrack, choice: str = "first") -> int:
    """The retarget neutral frame of `driver`: "first" (its first valid frame) or "closed-mouth"
    (`closed_mouth_frame`). Raises ValueError for another choice or a driver without a valid frame."""
    if choice not in NEUTRAL_CHOICES:
        raise ValueError(f"unknown driver neutral {choice!r} ({' or '.join(NEUTRAL_CHOICES)})")
    if choice == "closed-mouth":
        return closed_mouth_frame(driver)
    valid = np.nonzero(driver.valid)[0]
    if len(valid) == 0:
        raise ValueError("the driver has no valid frame")
    return int(valid[0])


def _split(pose: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    scale = np.linalg.norm(pose[..., :3, 0], axis=-1)
    return pose[..., :3, :3] / scale[..., None, None], scale, pose[..., :3, 3]


def retarget(driver: LandmarkTrack, driver_neutral_index: int, target_landmarks: np.ndarray,
             target_size: tuple[int, int] | None = None, *, expression_gain: float = 1.0,
             task_path: str | Path = DEFAULT_TASK_PATH) -> LandmarkTrack:
    """Drive `target_landmarks` (478,3 normalized in a `target_size` = (width, height) image; default
    the driver's size) with `driver`'s motion relative to its frame `driver_neutral_index`.

    Returns a track in the target's image: landmarks (T,478,3), facial transformation matrices,
    `valid` = the driver's. `expression_gain` scales the expression deltas (1 = as the driver).
    """
    t_count = len(driver)
    if not 0 <= driver_neutral_index < t_count:
        raise ValueError(f"driver_neutral_index {driver_neutral_index} outside 0..{t_count - 1}")
    if not driver.valid[driver_neutral_index]:
        raise ValueError(f"driver frame {driver_neutral_index} has no face; pick a valid neutral frame")
    target_landmarks = np.asarray(target_landmarks, np.float32)
    if target_landmarks.shape != (478, 3) or not np.isfinite(target_landmarks).all():
        raise ValueError("target_landmarks must be a finite (478,3) array")
    width, height = target_size or (driver.width, driver.height)

    geo = GeometryPipeline(load_canonical_mesh(task_path))
    ok = driver.valid.copy()
    drv = geo.to_metric(driver.landmarks[ok], driver.width, driver.height)
    n = int(np.count_nonzero(ok[:driver_neutral_index]))  # index of the neutral among valid frames
    tgt = geo.to_metric(target_landmarks[None], width, height)

    # expression, in the pose-free canonical frame
    k = face_proportions(tgt.metric[0]) / face_proportions(drv.metric[n])
    metric = tgt.metric[0][None] + (drv.metric - drv.metric[n][None]) * (k * expression_gain)

    # pose: driver's motion relative to its neutral, on top of the target's pose
    rd, sd, td = _split(drv.pose)
    rt, st, tt = _split(tgt.pose[0])
    r_out = np.einsum("nij,kj,kl->nil", rd, rd[n], rt)  # (R_t R_n^T) R_target
    s_out = st * sd / sd[n]
    depth_ratio = tt[2] / td[n][2]
    t_out = tt[None] + (td - td[n][None]) * depth_ratio
    pose = np.zeros((len(metric), 4, 4))
    pose[:, :3, :3] = r_out * s_out[:, None, None]
    pose[:, :3, 3] = t_out
    pose[:, 3, 3] = 1.0

    # MediaPipe's z is relative depth: carry the driver's changes of unprojection scale and depth
    # offset over to the target so z behaves like the driver's (and reproduces it exactly on itself)
    total_scale = tgt.total_scale[0] * drv.total_scale / drv.total_scale[n]
    depth_offset = tgt.depth_offset[0] + (drv.depth_offset - drv.depth_offset[n]) * (tgt.total_scale[0]
                                                                                   / drv.total_scale[n])
    screen = geo.to_screen(metric, pose, total_scale, depth_offset, width, height)
    landmarks = np.full((t_count, 478, 3), np.nan, np.float32)
    transforms = np.full((t_count, 4, 4), np.nan, np.float32)
    landmarks[ok] = screen
    transforms[ok] = pose.astype(np.float32)
    meta = {"retarget": {"driver": driver.source, "driver_neutral_index": int(driver_neutral_index),
                         "expression_gain": float(expression_gain), "axis_scale": k.round(4).tolist()},
            "driver_meta": driver.meta}
    return LandmarkTrack(landmarks, transforms, ok, driver.fps, width, height,
                         f"retarget({driver.source})", meta)
