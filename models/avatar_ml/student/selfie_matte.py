"""The learned person matte of `@mediapipe/selfie_segmentation` (Apache-2.0), run by TF Lite, and the
teacher with it in place of its GrabCut matte (a harness plug-in, for measuring which matte wins).

`SelfieMatte().alpha(rgb (H,W,3) uint8) -> (H,W) float32 in [0,1]` (1 = person): the 256x256
general model on the whole (square) image resized to 256x256, RGB in [0,1], output upsampled
bilinearly and lightly blurred (sigma 1 px at 256), like the teacher's GrabCut matte.

  python -m avatar_ml.eval.regions --clip ... --models teacher,avatar_ml.student.selfie_matte:teacher_with_selfie_matte
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

MODEL = Path(__file__).resolve().parents[3] / "node_modules" / "@mediapipe" / "selfie_segmentation" / "selfie_segmentation.tflite"


class SelfieMatte:
    def __init__(self, model: Path = MODEL, threads: int = 1) -> None:
        import tensorflow as tf

        if not model.is_file():
            raise FileNotFoundError(f"{model} (npm package @mediapipe/selfie_segmentation)")
        self.interp = tf.lite.Interpreter(model_path=str(model), num_threads=threads)
        self.interp.allocate_tensors()
        inp = self.interp.get_input_details()[0]
        self.size = int(inp["shape"][1])
        self.inp = inp["index"]
        self.out = self.interp.get_output_details()[0]["index"]

    def alpha(self, rgb: np.ndarray) -> np.ndarray:
        h, w = rgb.shape[:2]
        x = cv2.resize(rgb, (self.size, self.size), interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0
        self.interp.set_tensor(self.inp, x[None])
        self.interp.invoke()
        m = self.interp.get_tensor(self.out)[0, :, :, 0].astype(np.float32)
        m = cv2.GaussianBlur(np.clip(m, 0, 1), (0, 0), 1.0)
        return cv2.resize(m, (w, h), interpolation=cv2.INTER_LINEAR)


def teacher_with_selfie_matte(source_rgb: np.ndarray, source_landmarks: np.ndarray, out_size: int):
    """Registry factory: the teacher v1.2 with the selfie matte (and its background plate) instead of GrabCut."""
    from ..teacher import TeacherConfig, TeacherRenderer
    from ..teacher.matting import background_plate

    t = TeacherRenderer.create(source_rgb, source_landmarks, config=TeacherConfig(out_size=out_size))
    t.alpha = SelfieMatte().alpha(t.source)
    t.background = background_plate(t.source, t.alpha, keep_below=t.config.plate_keep_below).astype(np.float32)
    return t
