"""A trained student (`student.onnx` + `manifest.json`) as a harness avatar, run by onnxruntime.

`StudentAvatar(dir).render(driving (B,478,3) normalised to the source frame) -> (B,S,S,3) uint8`:
the landmarks are mapped into the identity's reference square, the ONNX graph renders that square
(256x256), and it is pasted into a frame of the source's size (S = out_size); outside the square the
frame shows the source as it was (the student renders only the head-and-shoulders square).
`student_factory(dir)` adapts it to the registry's factory signature. `precision="int8"` runs the
manifest's int8 serving variant (`model.int8`, what the live server renders on CPU by default).
"""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np

from .reference import ReferenceSquare


def load_manifest(model_dir: Path) -> dict:
    path = Path(model_dir) / "manifest.json"
    if not path.is_file():
        raise ValueError(f"{model_dir}: no manifest.json (not a finished student)")
    from .export import validate_manifest

    m = json.loads(path.read_text())
    validate_manifest(m)
    return m


class StudentAvatar:
    def __init__(self, model_dir: Path, source_rgb: np.ndarray, out_size: int, threads: int = 1,
                 precision: str = "float32") -> None:
        import onnxruntime as ort

        self.dir = Path(model_dir)
        self.manifest = load_manifest(self.dir)
        if precision == "int8" and "int8" not in self.manifest["model"]:
            raise ValueError(f"{model_dir}: the manifest has no int8 variant (make one: python -m avatar_ml.student.quantize --model {model_dir})")
        model_file = self.manifest["model"]["int8"]["file"] if precision == "int8" else self.manifest["model"]["file"]
        rec = self.manifest["training"]["recipe"]
        if "reference_square" not in rec:
            raise ValueError(f"{model_dir}: manifest lacks training.recipe.reference_square")
        self.ref = ReferenceSquare.from_dict(rec["reference_square"])
        h, w = source_rgb.shape[:2]
        if (w, h) != (self.ref.frame_width, self.ref.frame_height):
            raise ValueError(f"student was onboarded on {self.ref.frame_width}x{self.ref.frame_height} frames, "
                             f"the harness source is {w}x{h}")
        so = ort.SessionOptions()
        so.intra_op_num_threads = threads
        so.inter_op_num_threads = 1
        self.session = ort.InferenceSession(str(self.dir / model_file), so,
                                            providers=["CPUExecutionProvider"])
        self.input = self.manifest["model"]["inputs"][0]["name"]
        self.output = self.manifest["model"]["outputs"][0]["name"]
        self.out_size = out_size
        self.scale = out_size / w
        self.canvas = cv2.resize(source_rgb, (out_size, int(round(h * self.scale))), interpolation=cv2.INTER_AREA)
        if self.canvas.shape[0] != out_size:
            raise ValueError("StudentAvatar needs square source frames (as the harness does)")

    def render_reference(self, landmarks_ref: np.ndarray) -> np.ndarray:
        """(478,3) reference-square landmarks -> (256,256,3) uint8: the ONNX graph as the server runs it."""
        x = np.ascontiguousarray(landmarks_ref[None], np.float32)
        return self.session.run([self.output], {self.input: x})[0][0]

    def render(self, driving: np.ndarray) -> np.ndarray:
        driving = np.asarray(driving, np.float32)
        ref = self.ref.to_reference(driving)
        s = self.scale
        x0, y0 = int(round(self.ref.x0 * s)), int(round(self.ref.y0 * s))
        side = int(round(self.ref.side * s))
        out = np.repeat(self.canvas[None], len(driving), axis=0)
        for i, lm in enumerate(ref):
            face = self.render_reference(lm)
            interp = cv2.INTER_AREA if side < face.shape[0] else cv2.INTER_CUBIC
            patch = cv2.resize(face, (side, side), interpolation=interp)
            ys, xs = slice(max(y0, 0), min(y0 + side, self.out_size)), slice(max(x0, 0), min(x0 + side, self.out_size))
            out[i, ys, xs] = patch[ys.start - y0 : ys.stop - y0, xs.start - x0 : xs.stop - x0]
        return out


def student_factory(model_dir: Path, threads: int = 1, precision: str = "float32"):
    """Registry factory for a trained student in `model_dir` (the source arguments only check the frame size)."""

    def factory(source_rgb: np.ndarray, source_landmarks: np.ndarray, out_size: int) -> StudentAvatar:
        return StudentAvatar(Path(model_dir), source_rgb, out_size, threads, precision)

    return factory
