/**
 * Test geometry: a tracked face (normalised landmarks of a `fromWidth` x `fromHeight` frame) put
 * into a `width` x `height` frame, magnified `k` times about its centroid, with its centroid at
 * (cx·width, cy·height). Pixels stay square; z keeps MediaPipe's convention (x's scale, so it is
 * divided by the new width). Returns new normalised landmarks (Float32Array, 478*3).
 */
export function placeFace(
  landmarks: Float32Array, fromWidth: number, fromHeight: number,
  width: number, height: number, k: number, cx: number, cy: number,
): Float32Array {
  const n = landmarks.length / 3;
  let mx = 0, my = 0, mz = 0;
  for (let j = 0; j < n; j++) {
    mx += landmarks[j * 3]! * fromWidth;
    my += landmarks[j * 3 + 1]! * fromHeight;
    mz += landmarks[j * 3 + 2]! * fromWidth;
  }
  mx /= n; my /= n; mz /= n;
  const out = new Float32Array(landmarks.length);
  for (let j = 0; j < n; j++) {
    out[j * 3] = ((landmarks[j * 3]! * fromWidth - mx) * k + cx * width) / width;
    out[j * 3 + 1] = ((landmarks[j * 3 + 1]! * fromHeight - my) * k + cy * height) / height;
    out[j * 3 + 2] = (landmarks[j * 3 + 2]! * fromWidth * k) / width;
  }
  return out;
}
