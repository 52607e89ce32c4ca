/** MediaPipe Face Landmarker output sizes (0.10.x face_landmarker.task). */
export const LANDMARK_COUNT = 478;
export const BLENDSHAPE_COUNT = 52;
