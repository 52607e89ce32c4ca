/**
 * Test input for the motion pipeline without a browser: a face-shaped MotionSample built from the
 * shipped basis mean (itself fitted on real MediaPipe tracks), turned and with the mouth moving,
 * placed in a 640x480 image. Real landmark tracks need MediaPipe in Chromium (the e2e tests).
 */
import { LANDMARK_COUNT, loadMotionBasis, type MotionSample } from '@shared/motion';

const WIDTH = 640;
const HEIGHT = 480;

export function syntheticMotionSample(i: number, captureTimeMs: number): MotionSample {
  const mean = loadMotionBasis().mean;
  const yaw = 0.3 * Math.sin(i / 10);
  const open = 0.05 * (1 + Math.sin(i / 4));
  const c = Math.cos(yaw);
  const s = Math.sin(yaw);
  const scale = 0.12 * WIDTH;
  const landmarks = new Float32Array(LANDMARK_COUNT * 3);
  for (let j = 0; j < LANDMARK_COUNT; j += 1) {
    const x = mean[j * 3] as number;
    const y0 = mean[j * 3 + 1] as number;
    const z = mean[j * 3 + 2] as number;
    const y = y0 > 0.3 ? y0 + open : y0;
    landmarks[j * 3] = (WIDTH / 2 + scale * (c * x + s * z)) / WIDTH;
    landmarks[j * 3 + 1] = (HEIGHT / 2 + scale * y) / HEIGHT;
    landmarks[j * 3 + 2] = (scale * (-s * x + c * z)) / WIDTH;
  }
  return { captureTimeMs, landmarks, transformMatrix: new Float32Array(16), imageWidth: WIDTH, imageHeight: HEIGHT };
}
