/**
 * Measurement from a viewer's seat (tests, diagnostics). Two phases, so that measuring does not
 * compete for the CPU with what it measures:
 * 1. while watching, each decoded frame of a received AI-avatar track (requestVideoFrameCallback)
 *    is only copied (drawn into its own small OffscreenCanvas, synchronously, so the copy is the
 *    frame the callback describes), with its RTP timestamp and presentation time from the
 *    callback metadata;
 * 2. after the window (`analyze()`), MediaPipe Face Landmarker runs on every recorded frame, in
 *    presentation order, giving the mouth opening and eye openness it sees on each.
 * Also records audio envelopes (RMS every 10 ms) of a track as it plays out.
 * Times are epoch ms (performance.timeOrigin + performance time), comparable across pages.
 */
import type { FaceTracker } from '../tracking/FaceTracker';

export interface ViewedFrame {
  rtpTimestamp: number | null;
  /** When the frame was presented (epoch ms). */
  presentedAtMs: number;
  /** Inner lip gap / face height; null when no face was found (or the copy failed). */
  mouthOpen: number | null;
  /** Mean eyelid gap / eye width of both eyes; null when no face. */
  eyeOpen: number | null;
}

export interface EnvelopePoint {
  atMs: number;
  rms: number;
}

type Metadata = { rtpTimestamp?: number; presentationTime?: number; expectedDisplayTime?: number; width?: number; height?: number };

/** A decoded frame copied during the window, landmarked later. */
interface RecordedFrame {
  rtpTimestamp: number | null;
  presentedAtMs: number;
  /** The copy (null if the frame could not be copied → no face). */
  copy: OffscreenCanvas | null;
}

function dist(l: ArrayLike<number>, a: number, b: number): number {
  return Math.hypot((l[a * 3] as number) - (l[b * 3] as number), (l[a * 3 + 1] as number) - (l[b * 3 + 1] as number));
}

export class AvatarViewerProbe {
  /** Decoded frames presented while watching (each one recorded, up to maxFrames). */
  callbacks = 0;
  readonly #video: HTMLVideoElement;
  readonly #recorded: RecordedFrame[] = [];
  readonly #maxFrames: number;
  #handle: number | undefined;
  #stopped = false;

  /** Starts recording `track`'s decoded frames (at most `maxFrames`, default 900 = 36 s at 25 fps; 256×256 RGBA copies ≈ 240 MB). */
  constructor(track: MediaStreamTrack, maxFrames = 900) {
    this.#maxFrames = maxFrames;
    this.#video = document.createElement('video');
    this.#video.muted = true;
    this.#video.playsInline = true;
    this.#video.srcObject = new MediaStream([track]);
    void this.#video.play().catch(() => undefined);
    this.#next();
  }

  /** Stops recording (idempotent); the recorded frames stay for analyze(). */
  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    if (this.#handle !== undefined) this.#video.cancelVideoFrameCallback(this.#handle);
    this.#video.srcObject = null;
  }

  /**
   * Stops, then runs `tracker` on every recorded frame in presentation order and frees the copies.
   * Returns one ViewedFrame per recorded frame (mouthOpen/eyeOpen null where no face was found).
   */
  async analyze(tracker: FaceTracker): Promise<ViewedFrame[]> {
    this.stop();
    const out: ViewedFrame[] = [];
    for (const frame of this.#recorded.splice(0)) {
      let mouthOpen: number | null = null;
      let eyeOpen: number | null = null;
      try {
        if (!frame.copy) throw new Error('frame not copied');
        const face = tracker.track(frame.copy, frame.presentedAtMs - performance.timeOrigin);
        if (face) {
          const l = face.landmarks;
          const height = dist(l, 10, 152);
          mouthOpen = dist(l, 13, 14) / height;
          eyeOpen = (dist(l, 159, 145) / dist(l, 33, 133) + dist(l, 386, 374) / dist(l, 362, 263)) / 2;
        }
      } catch {
        // a frame that could not be copied, or that the landmarker refuses, counts as no face
      }
      frame.copy = null;
      // let the page breathe between frames (the landmarker is synchronous)
      await new Promise((r) => setTimeout(r, 0));
      out.push({ rtpTimestamp: frame.rtpTimestamp, presentedAtMs: frame.presentedAtMs, mouthOpen, eyeOpen });
    }
    return out;
  }

  /** Draws the video's current frame (the one this callback is for) into a new canvas. */
  #copy(metadata: Metadata): OffscreenCanvas | null {
    const width = metadata.width ?? this.#video.videoWidth;
    const height = metadata.height ?? this.#video.videoHeight;
    if (!width || !height) return null;
    const canvas = new OffscreenCanvas(width, height);
    const context = canvas.getContext('2d');
    if (!context) return null;
    context.drawImage(this.#video, 0, 0, width, height);
    return canvas;
  }

  #next(): void {
    if (this.#stopped) return;
    this.#handle = this.#video.requestVideoFrameCallback((now, metadata: Metadata) => {
      this.callbacks += 1;
      if (this.#recorded.length < this.#maxFrames) {
        const presented = metadata.presentationTime ?? now;
        this.#recorded.push({ rtpTimestamp: metadata.rtpTimestamp ?? null, presentedAtMs: performance.timeOrigin + presented, copy: this.#copy(metadata) });
      }
      this.#next();
    });
  }
}

/** RMS of a track's audio every ~10 ms as it plays (WebAudio analyser). */
export class AudioEnvelopeRecorder {
  readonly points: EnvelopePoint[] = [];
  readonly #context: AudioContext;
  readonly #timer: ReturnType<typeof setInterval>;

  constructor(track: MediaStreamTrack) {
    this.#context = new AudioContext();
    const source = this.#context.createMediaStreamSource(new MediaStream([track]));
    const analyser = this.#context.createAnalyser();
    analyser.fftSize = 512; // ~10.7 ms at 48 kHz
    source.connect(analyser);
    const buffer = new Float32Array(analyser.fftSize);
    void this.#context.resume().catch(() => undefined);
    this.#timer = setInterval(() => {
      analyser.getFloatTimeDomainData(buffer);
      let sum = 0;
      for (const v of buffer) sum += v * v;
      this.points.push({ atMs: performance.timeOrigin + performance.now(), rms: Math.sqrt(sum / buffer.length) });
    }, 10);
  }

  stop(): EnvelopePoint[] {
    clearInterval(this.#timer);
    void this.#context.close().catch(() => undefined);
    return this.points;
  }
}
