"""Teacher v1 renderer: mesh-driven one-shot reenactment from landmark priors (see renderer.py)."""

from .renderer import TeacherConfig, TeacherRenderer

__all__ = ["TeacherConfig", "TeacherRenderer"]
