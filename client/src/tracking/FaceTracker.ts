import { FaceLandmarker, FilesetResolver } from '@mediapipe/tasks-vision';
import type { FaceLandmarkerResult, ImageSource } from '@mediapipe/tasks-vision';
import { BLENDSHAPE_COUNT, LANDMARK_COUNT } from './trackingConstants';

export type FaceTrackerOptions = {
  /** Folder that serves the files of node_modules/@mediapipe/tasks-vision/wasm (no CDN). */
  wasmBaseUrl?: string;
  /** URL of MediaPipe's face_landmarker.task bundle (the server serves it). */
  modelUrl?: string;
};

/** One tracked video frame, straight from MediaPipe FaceLandmarker (first face only). */
export type TrackedFace = {
  /** The caller's timestamp for the frame (e.g. capture time), unchanged. */
  timestampMs: number;
  /** 478*3 floats: x, y normalised to the image [0,1], z as MediaPipe gives it (≈ x scale). */
  landmarks: Float32Array;
  /** 16 floats, column-major 4x4 facial transformation matrix (canonical face → camera, cm). */
  transformMatrix: Float32Array;
  /** 52 blendshape scores in MediaPipe's category order (see FaceTracker.blendshapeNames). */
  blendshapes: Float32Array;
};

export const DEFAULT_WASM_BASE_URL = '/mediapipe/wasm';
export const DEFAULT_MODEL_URL = '/models/face_landmarker.task';

/**
 * MediaPipe Face Landmarker 0.10.35 in VIDEO mode on the CPU delegate, loading its wasm and model
 * only from our own origin (0.10.35 sends no telemetry; 1.x does, which is why it is pinned).
 */
export class FaceTracker {
  readonly #landmarker: FaceLandmarker;
  #blendshapeNames: string[] = [];
  // VIDEO mode needs strictly increasing timestamps (MediaPipe works in integer microseconds).
  #lastMediapipeTimestampMs = -Infinity;
  #closed = false;

  static async create(options: FaceTrackerOptions = {}): Promise<FaceTracker> {
    const fileset = await FilesetResolver.forVisionTasks(options.wasmBaseUrl ?? DEFAULT_WASM_BASE_URL);
    const landmarker = await FaceLandmarker.createFromOptions(fileset, {
      baseOptions: { modelAssetPath: options.modelUrl ?? DEFAULT_MODEL_URL, delegate: 'CPU' },
      runningMode: 'VIDEO',
      numFaces: 1,
      outputFaceBlendshapes: true,
      outputFacialTransformationMatrixes: true,
    });
    return new FaceTracker(landmarker);
  }

  private constructor(landmarker: FaceLandmarker) {
    this.#landmarker = landmarker;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Blendshape category names, known after the first frame with a face. */
  get blendshapeNames(): readonly string[] {
    return this.#blendshapeNames;
  }

  /** Tracks one frame; null when no face is found (or after close). */
  track(source: ImageSource, timestampMs: number): TrackedFace | null {
    if (this.#closed) return null;
    const mediapipeTs = Math.max(timestampMs, this.#lastMediapipeTimestampMs + 1);
    this.#lastMediapipeTimestampMs = mediapipeTs;
    const result = this.#landmarker.detectForVideo(source, mediapipeTs);
    return this.#toTrackedFace(result, timestampMs);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#landmarker.close();
  }

  #toTrackedFace(result: FaceLandmarkerResult, timestampMs: number): TrackedFace | null {
    const points = result.faceLandmarks[0];
    if (!points || points.length < LANDMARK_COUNT) return null;
    const landmarks = new Float32Array(LANDMARK_COUNT * 3);
    for (let i = 0; i < LANDMARK_COUNT; i++) {
      const p = points[i]!;
      landmarks[i * 3] = p.x;
      landmarks[i * 3 + 1] = p.y;
      landmarks[i * 3 + 2] = p.z;
    }
    const transformMatrix = new Float32Array(16);
    const matrix = result.facialTransformationMatrixes[0];
    if (matrix && matrix.data.length === 16) transformMatrix.set(matrix.data);
    const blendshapes = new Float32Array(BLENDSHAPE_COUNT);
    const categories = result.faceBlendshapes[0]?.categories ?? [];
    for (const c of categories) {
      if (c.index >= 0 && c.index < BLENDSHAPE_COUNT) blendshapes[c.index] = c.score;
    }
    if (this.#blendshapeNames.length === 0 && categories.length > 0) {
      this.#blendshapeNames = [...categories].sort((a, b) => a.index - b.index).map((c) => c.categoryName);
    }
    return { timestampMs, landmarks, transformMatrix, blendshapes };
  }
}
