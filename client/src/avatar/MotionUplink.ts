/**
 * The avatar-mode uplink of one call: camera frames → FaceTracker → MotionEncoder → an
 * unordered, no-retransmit data channel ('motion') to the server. Stale motion is useless, so
 * nothing is ever retransmitted or queued behind a slow channel: when the channel's buffer is
 * over `maxBufferedBytes` (congestion) the frame is skipped and counted.
 *
 * Frames come from `requestVideoFrameCallback` on a private <video> of the camera track, so
 * each camera frame is tracked at most once; MediaPipe runs on the main thread (~28 ms/frame
 * on the CPU delegate), and a frame that arrives while one is being tracked is skipped.
 */
import type { DataProducer } from 'mediasoup-client/types';
import { MotionEncodeError } from '@shared/motion';
import type { MotionEncoder, MotionSample, ShapeSaturation } from '@shared/motion';
import type { CallSession } from '../call/CallSession';
import type { FaceTracker, TrackedFace } from '../tracking/FaceTracker';
import { TypedEmitter } from '../util/TypedEmitter';
import { UplinkMeter } from './UplinkMeter';

export const MOTION_CHANNEL_LABEL = 'motion';

export interface UplinkCounters {
  /** Camera frames handed to the tracker. */
  frames: number;
  /** Frames with a face (each one is encoded and sent, unless refused by the encoder). */
  tracked: number;
  noFace: number;
  sent: number;
  /** Frames not sent because the channel was congested or closed. */
  skipped: number;
  sendErrors: number;
  bytesSent: number;
  /**
   * Tracked frames the motion codec refused (MotionEncodeError), by the field at fault, e.g.
   * `{ scale: 3 }` for a face too close or too small to code. Never sent as wrong motion.
   */
  refused: Record<string, number>;
}

export type SentMotionFrame = { sample: MotionSample; packet: Uint8Array; face: TrackedFace };

export type MotionUplinkEvents = {
  /** A tracked frame was encoded and handed to the channel. */
  sent: [SentMotionFrame];
  /** A camera frame had no face. */
  noface: [];
  /** A tracked frame the motion codec could not carry (counted in `counters.refused`). */
  refused: [MotionEncodeError];
  close: [];
};

export interface MotionUplinkOptions {
  session: CallSession;
  track: MediaStreamTrack;
  tracker: FaceTracker;
  encoder: MotionEncoder;
  /** Skip frames while more than this is waiting in the channel (default 16 KiB ≈ 250 packets). */
  maxBufferedBytes?: number;
}

type VideoFrameMetadataLike = { captureTime?: number; mediaTime?: number };

export class MotionUplink extends TypedEmitter<MotionUplinkEvents> {
  readonly dataProducer: DataProducer;
  readonly meter = new UplinkMeter();
  readonly #session: CallSession;
  readonly #video: HTMLVideoElement;
  readonly #tracker: FaceTracker;
  readonly #encoder: MotionEncoder;
  readonly #maxBufferedBytes: number;
  readonly #counters: UplinkCounters = { frames: 0, tracked: 0, noFace: 0, sent: 0, skipped: 0, sendErrors: 0, bytesSent: 0, refused: {} };
  #lastRefusal: MotionEncodeError | undefined;
  readonly #trackedTimes: number[] = [];
  #frameCallback: number | undefined;
  #pollTimer: ReturnType<typeof setTimeout> | undefined;
  #lastMediaTime = -1;
  #faceVisible = false;
  /**
   * The frame MediaPipe reads: a copy of the <video>'s current frame. Handed a <video> whose
   * track Chromium crops and scales (a camera asked for a size it does not capture, e.g.
   * `?quality=low` on a 640x480 camera), MediaPipe found no face in nearly every frame; a 2D
   * canvas draw resamples the frame as displayed.
   */
  #frame: { canvas: HTMLCanvasElement; context: CanvasRenderingContext2D } | undefined;
  #closed = false;

  /** Opens the motion data channel and starts tracking. */
  static async start(options: MotionUplinkOptions): Promise<MotionUplink> {
    const dataProducer = await options.session.createDataChannel('motion', MOTION_CHANNEL_LABEL, {
      ordered: false,
      maxRetransmits: 0,
    });
    const video = document.createElement('video');
    video.muted = true;
    video.playsInline = true;
    video.srcObject = new MediaStream([options.track]);
    try {
      await video.play();
    } catch (error) {
      void options.session.closeDataChannel(dataProducer).catch(() => undefined);
      throw error;
    }
    const uplink = new MotionUplink(options, dataProducer, video);
    uplink.#scheduleNextFrame();
    return uplink;
  }

  private constructor(options: MotionUplinkOptions, dataProducer: DataProducer, video: HTMLVideoElement) {
    super();
    this.#session = options.session;
    this.#tracker = options.tracker;
    this.#encoder = options.encoder;
    this.#maxBufferedBytes = options.maxBufferedBytes ?? 16 * 1024;
    this.dataProducer = dataProducer;
    this.#video = video;
    dataProducer.observer.once('close', () => this.close());
  }

  get closed(): boolean {
    return this.#closed;
  }

  get counters(): Readonly<UplinkCounters> {
    return this.#counters;
  }

  /** Frames the codec refused, all reasons together. */
  get refusedFrames(): number {
    let n = 0;
    for (const count of Object.values(this.#counters.refused)) n += count;
    return n;
  }

  /** Frames sent with a shape coefficient at the codec's range limit, and what that cost (MotionEncoder.saturation). */
  get shapeSaturation(): Readonly<ShapeSaturation> {
    return this.#encoder.saturation;
  }

  /** Why the codec last refused a frame (undefined if it never did). */
  get lastRefusal(): MotionEncodeError | undefined {
    return this.#lastRefusal;
  }

  /** Whether the last tracked camera frame had a face. */
  get faceVisible(): boolean {
    return this.#faceVisible;
  }

  get videoWidth(): number {
    return this.#video.videoWidth;
  }

  get videoHeight(): number {
    return this.#video.videoHeight;
  }

  /** Tracked frames per second over the last 2 s. */
  trackedFps(nowMs = performance.now()): number {
    while (this.#trackedTimes.length > 0 && (this.#trackedTimes[0] as number) <= nowMs - 2000) this.#trackedTimes.shift();
    return this.#trackedTimes.length / 2;
  }

  /** Sends raw bytes or text on the motion channel (the fuzz test uses this). False if closed. */
  sendRaw(message: Uint8Array | string): boolean {
    if (this.#closed || this.dataProducer.readyState !== 'open') return false;
    this.dataProducer.send(message);
    return true;
  }

  /** Idempotent: stops tracking and closes the channel (here and on the server). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#frameCallback !== undefined) this.#video.cancelVideoFrameCallback(this.#frameCallback);
    clearTimeout(this.#pollTimer);
    this.#video.pause();
    this.#video.srcObject = null;
    if (this.#frame) this.#frame.canvas.width = this.#frame.canvas.height = 0;
    this.#frame = undefined;
    void this.#session.closeDataChannel(this.dataProducer).catch(() => undefined);
    this.emit('close');
    this.removeAllListeners();
  }

  #scheduleNextFrame(): void {
    if (this.#closed) return;
    if ('requestVideoFrameCallback' in this.#video) {
      this.#frameCallback = this.#video.requestVideoFrameCallback((_now, metadata) => {
        this.#frameCallback = undefined;
        this.#onFrame(metadata);
        this.#scheduleNextFrame();
      });
    } else {
      // Browsers without rVFC: poll for a new frame about twice per 30 fps frame.
      this.#pollTimer = setTimeout(() => {
        if (this.#video.currentTime !== this.#lastMediaTime) {
          this.#lastMediaTime = this.#video.currentTime;
          this.#onFrame({});
        }
        this.#scheduleNextFrame();
      }, 16);
    }
  }

  /**
   * While true no motion is sent (what a background tab, whose frame callbacks stop, does): the
   * server's avatar shows idle motion. Tests flip it; the page never does.
   */
  paused = false;

  /** The <video>'s current frame drawn at `width` x `height` on the uplink's canvas. */
  #frameCopy(width: number, height: number): HTMLCanvasElement {
    if (!this.#frame) {
      const canvas = document.createElement('canvas');
      const context = canvas.getContext('2d', { alpha: false });
      if (!context) throw new Error('no 2D canvas context for the tracker\'s frame copy');
      this.#frame = { canvas, context };
    }
    const { canvas, context } = this.#frame;
    if (canvas.width !== width || canvas.height !== height) {
      canvas.width = width;
      canvas.height = height;
    }
    context.drawImage(this.#video, 0, 0, width, height);
    return canvas;
  }

  #onFrame(metadata: VideoFrameMetadataLike): void {
    if (this.#closed || this.paused) return;
    const width = this.#video.videoWidth;
    const height = this.#video.videoHeight;
    if (width === 0 || height === 0) return;
    this.#counters.frames += 1;
    const nowMs = performance.now();
    // Capture time on the wall-clock timeline the codec expects (timeOrigin + performance time).
    const captureTimeMs =
      performance.timeOrigin + (typeof metadata.captureTime === 'number' && metadata.captureTime > 0 ? metadata.captureTime : nowMs);
    let face: TrackedFace | null;
    try {
      face = this.#tracker.track(this.#frameCopy(width, height), nowMs);
    } catch (error) {
      console.warn('face tracking failed on a frame', error);
      face = null;
    }
    this.#faceVisible = face !== null;
    if (!face) {
      this.#counters.noFace += 1;
      this.emit('noface');
      return;
    }
    this.#counters.tracked += 1;
    this.#trackedTimes.push(nowMs);
    const sample: MotionSample = {
      captureTimeMs,
      landmarks: face.landmarks,
      transformMatrix: face.transformMatrix,
      imageWidth: width,
      imageHeight: height,
    };
    // Checked before encoding, so a skipped frame takes no sequence number: the server's loss
    // figure then means loss on the way, not congestion here.
    if (this.dataProducer.readyState !== 'open' || this.dataProducer.bufferedAmount > this.#maxBufferedBytes) {
      this.#counters.skipped += 1;
      return;
    }
    let packet: Uint8Array;
    try {
      packet = this.#encoder.encode(sample);
    } catch (error) {
      if (!(error instanceof MotionEncodeError)) throw error;
      // A pose the packet cannot carry: refused and counted, never sent as wrong motion.
      countRefusal(this.#counters, error);
      if (this.#lastRefusal?.field !== error.field) console.warn(error.message);
      this.#lastRefusal = error;
      this.emit('refused', error);
      return;
    }
    try {
      this.dataProducer.send(packet);
    } catch (error) {
      this.#counters.sendErrors += 1;
      console.warn('motion packet send failed', error);
      return;
    }
    this.#counters.sent += 1;
    this.#counters.bytesSent += packet.byteLength;
    this.meter.add(packet.byteLength, nowMs);
    this.emit('sent', { sample, packet, face });
  }
}

/** Counts a frame the codec refused under its field (`counters.refused`). */
export function countRefusal(counters: UplinkCounters, error: MotionEncodeError): void {
  counters.refused[error.field] = (counters.refused[error.field] ?? 0) + 1;
}
