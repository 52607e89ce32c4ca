"""The `--model` registry: how the harness onboards an identity and renders driving landmarks.

A model is a factory `(source_rgb HxWx3 uint8, source_landmarks (478,3) normalised, out_size) ->
avatar` whose avatar has `render(driving (B,478,3) normalised) -> (B, out_size, out_size, 3) uint8`.
Register built-ins below; anything else plugs in without editing this file as
`--model some.module:factory` (e.g. a later ONNX student wrapper).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Callable, Protocol

import numpy as np


class Avatar(Protocol):
    def render(self, driving: np.ndarray) -> np.ndarray: ...


ModelFactory = Callable[[np.ndarray, np.ndarray, int], Avatar]


@dataclass(frozen=True)
class ModelSpec:
    name: str
    factory: ModelFactory
    description: str


def _teacher(source_rgb: np.ndarray, source_landmarks: np.ndarray, out_size: int) -> Avatar:
    from ..teacher import TeacherConfig, TeacherRenderer

    return TeacherRenderer.create(source_rgb, source_landmarks, config=TeacherConfig(out_size=out_size))


def _warp2d(source_rgb: np.ndarray, source_landmarks: np.ndarray, out_size: int) -> Avatar:
    from .baselines import Warp2DAvatar

    return Warp2DAvatar(source_rgb, source_landmarks, out_size)


def _static(source_rgb: np.ndarray, source_landmarks: np.ndarray, out_size: int) -> Avatar:
    from .baselines import StaticAvatar

    return StaticAvatar(source_rgb, source_landmarks, out_size)


MODELS: dict[str, ModelSpec] = {}


def register_model(name: str, factory: ModelFactory, description: str) -> None:
    if name in MODELS:
        raise ValueError(f"model {name!r} already registered")
    MODELS[name] = ModelSpec(name, factory, description)


register_model("teacher", _teacher, "Teacher v1: 3D face-mesh warp + eye/mouth synthesis (avatar_ml.teacher)")
register_model("warp2d", _warp2d, "baseline: 2D piecewise-affine warp, 154 landmarks + 8 border anchors")
register_model("static", _static, "baseline: the source frame, unmoved")

BASELINES = ("warp2d", "static")


def _student_needs_training(source_rgb: np.ndarray, source_landmarks: np.ndarray, out_size: int) -> Avatar:
    raise ValueError("--model student trains a student first: give --train-fraction (e.g. 0.6), "
                     "or --model student:<dir> for one already trained")


register_model("student", _student_needs_training,
               "Student: per-identity ONNX network distilled from the teacher and the clip's own frames (avatar_ml.student)")


def resolve_model(name: str) -> ModelSpec:
    """A registered name, `student:<dir>` for a trained student (`student-int8:<dir>`: its int8 variant),
    or `package.module:factory`."""
    if name in MODELS:
        return MODELS[name]
    if name.startswith(("student:", "student-int8:")):  # a trained student; -int8: its CPU serving variant
        from pathlib import Path

        from ..student.avatar import student_factory

        kind, path = name.split(":", 1)
        precision = "int8" if kind == "student-int8" else "float32"
        return ModelSpec(kind, student_factory(Path(path), precision=precision), f"{kind} from {path}")
    if ":" in name:
        module, attr = name.split(":", 1)
        try:
            factory = getattr(importlib.import_module(module), attr)
        except (ImportError, AttributeError) as e:
            raise ValueError(f"cannot load model factory {name!r}: {e}") from e
        return ModelSpec(name, factory, f"plug-in {name}")
    raise ValueError(f"unknown model {name!r}; registered: {', '.join(sorted(MODELS))} (or module:factory)")
