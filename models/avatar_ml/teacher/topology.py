"""Index sets of MediaPipe's 478-point face landmark topology used by the teacher and the harness.

Names follow the subject: "left eye" is the subject's left (image right, iris 473-477), as in
MediaPipe's FACEMESH_LEFT_EYE / FACEMESH_LEFT_IRIS.
"""

from __future__ import annotations

import numpy as np

# Closed contours, listed in order around the shape.
LIPS_INNER = np.array(
    [78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308, 324, 318, 402, 317, 14, 87, 178, 88, 95]
)
LIPS_INNER_UPPER = np.array([78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308])
LIPS_INNER_LOWER = np.array([78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308])
LIPS_OUTER = np.array(
    [61, 185, 40, 39, 37, 0, 267, 269, 270, 409, 291, 375, 321, 405, 314, 17, 84, 181, 91, 146]
)
RIGHT_EYE = np.array([33, 246, 161, 160, 159, 158, 157, 173, 133, 155, 154, 153, 145, 144, 163, 7])
LEFT_EYE = np.array([263, 466, 388, 387, 386, 385, 384, 398, 362, 382, 381, 380, 374, 373, 390, 249])
RIGHT_BROW = np.array([46, 53, 52, 65, 55, 70, 63, 105, 66, 107])
LEFT_BROW = np.array([276, 283, 282, 295, 285, 300, 293, 334, 296, 336])
# Landmarks fixed to the skull, for rigid head-motion fits (forehead, temples, nose bridge, eye
# corners, cheekbones): they do not move with expressions.
RIGID_LANDMARKS = np.array([10, 109, 338, 67, 297, 54, 284, 21, 251, 168, 6, 197, 33, 133, 362, 263, 234, 454])
FACE_OVAL = np.array(
    [10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377,
     152, 148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109]
)
NOSE = np.array(
    [168, 6, 197, 195, 5, 4, 1, 19, 94, 2, 98, 97, 326, 327, 129, 358, 49, 279, 64, 294, 48,
     278, 115, 344, 220, 440]
)
RIGHT_IRIS_CENTER, RIGHT_IRIS_RING = 468, np.array([469, 470, 471, 472])
LEFT_IRIS_CENTER, LEFT_IRIS_RING = 473, np.array([474, 475, 476, 477])

# The ring of landmarks just above each upper lid (the lid fold), outer corner to inner corner.
RIGHT_EYE_UPPER_FOLD = np.array([247, 30, 29, 27, 28, 56, 190])
LEFT_EYE_UPPER_FOLD = np.array([467, 260, 259, 257, 258, 286, 414])
EYE_FOLDS = (RIGHT_EYE_UPPER_FOLD, LEFT_EYE_UPPER_FOLD)

# (contour, upper-lid point, lower-lid point, outer corner, inner corner, iris centre, iris ring)
EYES = (
    (RIGHT_EYE, 159, 145, 33, 133, RIGHT_IRIS_CENTER, RIGHT_IRIS_RING),
    (LEFT_EYE, 386, 374, 263, 362, LEFT_IRIS_CENTER, LEFT_IRIS_RING),
)
MOUTH_UPPER_INNER, MOUTH_LOWER_INNER, MOUTH_LEFT_CORNER, MOUTH_RIGHT_CORNER = 13, 14, 308, 78

# The 154 landmarks of the plain 2D piecewise-affine baseline: lips (40), eyes (32), brows (20),
# face oval (36) and nose (26) contours.
WARP2D_LANDMARKS = np.unique(
    np.concatenate([LIPS_INNER, LIPS_OUTER, RIGHT_EYE, LEFT_EYE, RIGHT_BROW, LEFT_BROW, FACE_OVAL, NOSE])
)
assert WARP2D_LANDMARKS.size == 154, WARP2D_LANDMARKS.size


def mouth_opening(landmarks: np.ndarray) -> np.ndarray:
    """Inner-lip gap over mouth width, for (..., 478, >=2) landmarks (any consistent units)."""
    lm = np.asarray(landmarks)[..., :2]
    gap = np.linalg.norm(lm[..., MOUTH_UPPER_INNER, :] - lm[..., MOUTH_LOWER_INNER, :], axis=-1)
    width = np.linalg.norm(lm[..., MOUTH_LEFT_CORNER, :] - lm[..., MOUTH_RIGHT_CORNER, :], axis=-1)
    return gap / np.maximum(width, 1e-9)


def eye_opening(landmarks: np.ndarray, eye: int) -> np.ndarray:
    """Lid gap over eye width for eye 0 (right) or 1 (left)."""
    _, up, lo, outer, inner, _, _ = EYES[eye]
    lm = np.asarray(landmarks)[..., :2]
    gap = np.linalg.norm(lm[..., up, :] - lm[..., lo, :], axis=-1)
    width = np.linalg.norm(lm[..., outer, :] - lm[..., inner, :], axis=-1)
    return gap / np.maximum(width, 1e-9)
