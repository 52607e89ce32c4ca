/**
 * Landmark index sets from @mediapipe/tasks-vision 0.10.35 (FaceLandmarker.FACE_LANDMARKS_LIPS,
 * _LEFT_EYE, _RIGHT_EYE, _LEFT_IRIS, _RIGHT_IRIS, plus the iris centres 468 and 473), copied so
 * Node code needs no browser bundle. Used to report mouth and eye errors separately.
 */
const LIPS = [0, 13, 14, 17, 37, 39, 40, 61, 78, 80, 81, 82, 84, 87, 88, 91, 95, 146, 178, 181, 185, 191, 267, 269, 270, 291, 308, 310, 311, 312, 314, 317, 318, 321, 324, 375, 402, 405, 409, 415];
const LEFT_EYE = [249, 263, 362, 373, 374, 380, 381, 382, 384, 385, 386, 387, 388, 390, 398, 466];
const RIGHT_EYE = [7, 33, 133, 144, 145, 153, 154, 155, 157, 158, 159, 160, 161, 163, 173, 246];
const IRIS = [468, 469, 470, 471, 472, 473, 474, 475, 476, 477];

export const LANDMARK_REGIONS = {
  mouth: LIPS,
  eyes: [...LEFT_EYE, ...RIGHT_EYE, ...IRIS],
  iris: IRIS,
} as const satisfies Record<string, readonly number[]>;
