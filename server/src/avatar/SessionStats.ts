/**
 * The bookkeeping of one AvatarSession's frames: counters, rates and recent latencies for its
 * `avatarStats` (the driver's panel, the Prometheus gauges), the log of sent frames (RTP
 * timestamp → capture time, for latency measurement) and the PLI/FIR → key frame latency.
 * Arithmetic on the times it is given (performance.now() ms); no I/O, no timers.
 */
import type { AvatarDropEvent, AvatarSessionState, AvatarStats } from '@shared/avatar/avatarProtocol';
import { RateWindow } from '../motion/RateWindow';
import type { MotionSourceSample } from './MotionSource';
import { RecentValues } from './RecentValues';

/** Frames kept for `recentFrames()` (latency measurement). */
const FRAME_LOG = 512;

export type DropReason = AvatarDropEvent['reason'];

export interface SentFrameRecord {
  rtpTimestamp: number;
  sentAtMs: number;
  state: AvatarSessionState;
  originCaptureTimeMs: number | null;
  /** Mouth opening of the rendered landmarks (inner lip gap / face height), for tests. */
  mouthOpen: number;
}

/** A frame whose RTP has just been sent, as SessionStats needs it. */
export interface SentFrame {
  sentAtMs: number;
  /** The output tick it was rendered for (its deadline). */
  tickDueMs: number;
  rtpTimestamp: number;
  bytes: number;
  encodeMs: number;
  keyframe: boolean;
  state: AvatarSessionState;
  /** The motion sample rendered (live) or held; undefined for idle and calibration frames. */
  sample: MotionSourceSample | undefined;
  mouthOpen: number;
}

/** The motion timings of a sent frame's `avatar_frame` event (ms; null where they do not apply). */
export interface SentFrameTimings {
  /** Age of the rendered motion at the tick, since its capture. */
  motionAgeMs: number | null;
  /** Sample available → its first frame sent; null for a sample already sent (held, repeated). */
  playedToSentMs: number | null;
  originCaptureTimeMs: number | null;
}

export class SessionStats {
  framesRendered = 0;
  framesSent = 0;
  lateTicks = 0;
  keyframes = 0;
  keyframeRequests = 0;
  /** PLI/FIR → key frame sent (ms), the last few. */
  readonly keyframeLatency = new RecentValues(16);
  readonly #dropped = new Map<DropReason, number>();
  readonly #sentRate = new RateWindow();
  readonly #frameRate = new RateWindow();
  readonly #motionAge = new RecentValues();
  readonly #inference = new RecentValues();
  readonly #encode = new RecentValues();
  readonly #playedToSent = new RecentValues();
  readonly #captureToSent = new RecentValues();
  readonly #frameLog: SentFrameRecord[] = [];
  #keyframeAskedMs: number | undefined;
  #lastSentSeq = -1;

  /** Drops so far, by reason. */
  get dropped(): Record<string, number> {
    return Object.fromEntries(this.#dropped);
  }

  drop(reason: DropReason): void {
    this.#dropped.set(reason, (this.#dropped.get(reason) ?? 0) + 1);
  }

  rendered(inferenceMs: number): void {
    this.framesRendered += 1;
    this.#inference.add(inferenceMs);
  }

  /** A consumer asked for a key frame (PLI/FIR); the latency runs from the first unanswered ask. */
  keyframeRequested(nowMs: number): void {
    this.keyframeRequests += 1;
    this.#keyframeAskedMs ??= nowMs;
  }

  /** Records a sent frame; returns the motion timings of its `avatar_frame` event. */
  sent(frame: SentFrame): SentFrameTimings {
    const { sentAtMs, sample } = frame;
    this.framesSent += 1;
    this.#frameRate.add(sentAtMs, 1);
    this.#sentRate.add(sentAtMs, frame.bytes);
    this.#encode.add(frame.encodeMs);
    if (frame.keyframe) {
      this.keyframes += 1;
      if (this.#keyframeAskedMs !== undefined) {
        this.keyframeLatency.add(sentAtMs - this.#keyframeAskedMs);
        this.#keyframeAskedMs = undefined;
      }
    }
    const motionAgeMs = sample ? frame.tickDueMs - sample.captureTimeMs : null;
    // Per motion sample: only its first frame (a held or repeated sample is not new motion).
    const firstSend = sample !== undefined && sample.seq !== this.#lastSentSeq;
    if (sample) this.#lastSentSeq = sample.seq;
    const playedToSentMs = sample && firstSend ? sentAtMs - sample.availableAtMs : null;
    if (motionAgeMs !== null) this.#motionAge.add(motionAgeMs);
    if (playedToSentMs !== null) this.#playedToSent.add(playedToSentMs);
    if (sample && firstSend) this.#captureToSent.add(sentAtMs - sample.captureTimeMs);
    const originCaptureTimeMs = sample?.originCaptureTimeMs ?? null;
    this.#frameLog.push({ rtpTimestamp: frame.rtpTimestamp, sentAtMs, state: frame.state, originCaptureTimeMs, mouthOpen: frame.mouthOpen });
    if (this.#frameLog.length > FRAME_LOG) this.#frameLog.shift();
    return { motionAgeMs, playedToSentMs, originCaptureTimeMs };
  }

  /** The last sent frames, oldest first. */
  recentFrames(): readonly SentFrameRecord[] {
    return this.#frameLog;
  }

  /** Median capture → RTP sent over the last new motion samples (ms); null before any. */
  captureToSentMsP50(): number | null {
    return this.#captureToSent.quantile(0.5);
  }

  /** The frame figures of `avatarStats` at `nowMs`. */
  snapshot(nowMs: number): Pick<
    AvatarStats,
    | 'fps' | 'framesRendered' | 'framesSent' | 'framesDropped' | 'lateTicks' | 'motionAgeMsP50' | 'inferenceMsP50'
    | 'encodeMsP50' | 'playedToSentMsP50' | 'playedToSentMsP95' | 'sentKbps' | 'keyframes' | 'keyframeRequests'
  > {
    return {
      fps: this.#frameRate.perSecond(nowMs),
      framesRendered: this.framesRendered,
      framesSent: this.framesSent,
      framesDropped: this.dropped,
      lateTicks: this.lateTicks,
      motionAgeMsP50: this.#motionAge.quantile(0.5),
      inferenceMsP50: this.#inference.quantile(0.5),
      encodeMsP50: this.#encode.quantile(0.5),
      playedToSentMsP50: this.#playedToSent.quantile(0.5),
      playedToSentMsP95: this.#playedToSent.quantile(0.95),
      sentKbps: this.#sentRate.kbps(nowMs),
      keyframes: this.keyframes,
      keyframeRequests: this.keyframeRequests,
    };
  }
}
