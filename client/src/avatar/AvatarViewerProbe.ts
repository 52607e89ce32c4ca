/**
 * Measurement from a viewer's seat (tests, diagnostics): runs MediaPipe Face Landmarker on a
 * received AI-avatar track, frame by frame (requestVideoFrameCallback), recording each decoded
 * frame's RTP timestamp, when it was presented, the mouth opening and eye openness the landmarker
 * sees; and records audio envelopes (RMS every 10 ms) of a track as it plays out.
 * Times are epoch ms (performance.timeOrigin + performance time), comparable across pages.
 */
import type { FaceTracker } from '../tracking/FaceTracker';

export interface ViewedFrame {
  rtpTimestamp: number | null;
  /** When the frame was presented (epoch ms). */
  presentedAtMs: number;
  /** Inner lip gap / face height; null when no face was found. */
  mouthOpen: number | null;
  /** Mean eyelid gap / eye width of both eyes; null when no face. */
  eyeOpen: number | null;
}

export interface EnvelopePoint {
  atMs: number;
  rms: number;
}

type Metadata = { rtpTimestamp?: number; presentationTime?: number; expectedDisplayTime?: number };

function dist(l: ArrayLike<number>, a: number, b: number): number {
  return Math.hypot((l[a * 3] as number) - (l[b * 3] as number), (l[a * 3 + 1] as number) - (l[b * 3 + 1] as number));
}

export class AvatarViewerProbe {
  readonly frames: ViewedFrame[] = [];
  /** Decoded frames seen (tracked or not). */
  callbacks = 0;
  readonly #video: HTMLVideoElement;
  readonly #tracker: FaceTracker;
  #handle: number | undefined;
  #stopped = false;

  constructor(track: MediaStreamTrack, tracker: FaceTracker) {
    this.#tracker = tracker;
    this.#video = document.createElement('video');
    this.#video.muted = true;
    this.#video.playsInline = true;
    this.#video.srcObject = new MediaStream([track]);
    void this.#video.play().catch(() => undefined);
    this.#next();
  }

  stop(): ViewedFrame[] {
    this.#stopped = true;
    if (this.#handle !== undefined) this.#video.cancelVideoFrameCallback(this.#handle);
    this.#video.srcObject = null;
    return this.frames;
  }

  #next(): void {
    if (this.#stopped) return;
    this.#handle = this.#video.requestVideoFrameCallback((now, metadata: Metadata) => {
      this.callbacks += 1;
      const presented = metadata.presentationTime ?? now;
      let mouthOpen: number | null = null;
      let eyeOpen: number | null = null;
      try {
        const face = this.#tracker.track(this.#video, now);
        if (face) {
          const l = face.landmarks;
          const height = dist(l, 10, 152);
          mouthOpen = dist(l, 13, 14) / height;
          eyeOpen = (dist(l, 159, 145) / dist(l, 33, 133) + dist(l, 386, 374) / dist(l, 362, 263)) / 2;
        }
      } catch {
        // a frame the landmarker refuses counts as no face
      }
      this.frames.push({ rtpTimestamp: metadata.rtpTimestamp ?? null, presentedAtMs: performance.timeOrigin + presented, mouthOpen, eyeOpen });
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
