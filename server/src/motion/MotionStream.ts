/**
 * The validated, de-jittered motion of one avatar-mode peer (one 'motion' DataProducer).
 *
 * Input: every message of the peer's motion data channel, via `push(message, ppid)` (the
 * MotionService feeds it from the Room's `data` event, which reads a DirectTransport
 * DataConsumer). Each message passes, in order: binary check → per-peer token bucket → size
 * check → codec decode → value sanity → sequence check (duplicates, forged jumps) → capture
 * clock (future / stale) → jitter buffer (late / overflow). A message failing any step is
 * dropped and counted by reason; nothing a peer sends can make `push` throw.
 *
 * Output, for the avatar renderer and for metrics:
 * - `frame` event: every frame, in capture order, when it falls due (`localCaptureMs +
 *   targetDelayMs` on the server clock). The stream owns the playout timer.
 * - `latest()`: the most recently played frame; what a renderer ticking at its own frame rate
 *   should draw now. `ageMs()` says how stale it is.
 * - `frames()`: an async iterator of played frames, for a consumer that wants each one; it
 *   keeps at most `iteratorQueue` unread frames (older ones are skipped) and ends on close.
 * - `stats()`: counters and gauges (received, dropped by reason, lost, jitter, age, kbps).
 *
 * Times: the sender's capture clock is anchored to the server clock by CaptureClock (fastest
 * transit seen), so "age" and "delay" here are relative to the fastest packet, not absolute
 * one-way delays; jitter (RFC 3550 §6.4.1 interarrival jitter, in ms) needs no anchor.
 */
import { CaptureClock } from './CaptureClock';
import { JitterBuffer, type BufferedFrame } from './JitterBuffer';
import type { DecodedMotionFrame, MotionDropReason, MotionPacketDecodeFn } from './motionTypes';
import type { MotionStreamConfig } from './motionStreamConfig';
import { RateWindow } from './RateWindow';
import { SequenceTracker } from './SequenceTracker';
import { TokenBucket } from '../util/TokenBucket';
import { TypedEmitter } from '../util/TypedEmitter';
import type { Logger } from '../logger';

/** SCTP payload protocol identifiers (RFC 8831): what kind of message arrived. */
const PPID_STRING = 51;
const PPID_BINARY = 53;
const PPID_STRING_EMPTY = 56;
const PPID_BINARY_EMPTY = 57;

export interface PlayedMotionFrame<F> {
  frame: F;
  /** Capture time on the server clock. */
  localCaptureMs: number;
  arrivalMs: number;
  playedAtMs: number;
}

export interface MotionStreamStats {
  peerId: string;
  dataProducerId: string;
  /** Every message that reached the stream, good or bad. */
  receivedPackets: number;
  receivedBytes: number;
  /** Frames that passed every check and entered the jitter buffer. */
  acceptedFrames: number;
  playedFrames: number;
  /** From sequence numbers (RFC 3550 A.3): expected − received; reordering can lower it. */
  lostFrames: number;
  dropped: Record<string, number>;
  droppedTotal: number;
  jitterMs: number;
  /** Age of the latest played frame now, on the anchored clock; null before the first. */
  ageMs: number | null;
  /** Uplink bit rate of all messages on the channel, over the last ~2 s. */
  kbps: number;
  bufferedFrames: number;
  targetDelayMs: number;
  clockResyncs: number;
}

export type MotionStreamEvents<F> = {
  frame: [PlayedMotionFrame<F>];
  /** A message arrived (before any check): its size in bytes. */
  packet: [number];
  drop: [MotionDropReason];
  close: [];
};

export interface MotionStreamOptions<F extends DecodedMotionFrame> {
  peerId: string;
  dataProducerId: string;
  decode: MotionPacketDecodeFn<F>;
  /** The codec's largest valid packet; longer messages are refused unread. */
  maxPacketBytes: number;
  /** The codec's sequence number modulus (2^16 for a uint16 field). */
  seqModulus: number;
  config: MotionStreamConfig;
  logger: Logger;
  /** Monotonic milliseconds; tests pass a fake clock. */
  now?: () => number;
  /** Unread frames kept for `frames()` iterators. */
  iteratorQueue?: number;
}

export class MotionStream<F extends DecodedMotionFrame = DecodedMotionFrame> extends TypedEmitter<
  MotionStreamEvents<F>
> {
  readonly peerId: string;
  readonly dataProducerId: string;
  readonly #decode: MotionPacketDecodeFn<F>;
  readonly #maxPacketBytes: number;
  readonly #config: MotionStreamConfig;
  readonly #logger: Logger;
  readonly #now: () => number;
  readonly #iteratorQueue: number;

  readonly #bucket: TokenBucket;
  readonly #sequence: SequenceTracker;
  readonly #clock: CaptureClock;
  readonly #buffer: JitterBuffer<F>;
  readonly #rate = new RateWindow();

  #closed = false;
  #timer: NodeJS.Timeout | undefined;
  #timerDueMs = Number.POSITIVE_INFINITY;
  #latest: PlayedMotionFrame<F> | undefined;
  #lastTransitMs: number | undefined;
  #jitterMs = 0;
  #clockResyncsSeen = 0;
  #receivedPackets = 0;
  #receivedBytes = 0;
  #acceptedFrames = 0;
  #playedFrames = 0;
  #droppedTotal = 0;
  readonly #dropped = new Map<string, number>();
  /** Pending `frames()` readers and their unread frames. */
  readonly #iterators = new Set<{ queue: PlayedMotionFrame<F>[]; wake: (() => void) | undefined }>();

  constructor(options: MotionStreamOptions<F>) {
    super();
    this.peerId = options.peerId;
    this.dataProducerId = options.dataProducerId;
    this.#decode = options.decode;
    this.#maxPacketBytes = options.maxPacketBytes;
    this.#config = options.config;
    this.#logger = options.logger;
    this.#now = options.now ?? (() => performance.now());
    this.#iteratorQueue = options.iteratorQueue ?? 8;
    const c = options.config;
    this.#bucket = new TokenBucket({ ratePerSecond: c.maxPacketsPerSecond, capacity: c.burstPackets });
    this.#sequence = new SequenceTracker({
      modulus: options.seqModulus,
      // ~10 s of frames at 30 fps: larger gaps are a new or forged stream, not loss.
      maxDropout: 300,
      duplicateWindow: 256,
    });
    this.#clock = new CaptureClock({
      maxFutureMs: c.maxFutureMs,
      maxAgeMs: c.maxAgeMs,
      resyncAfter: c.clockResyncAfterPackets,
      staleResyncAfter: c.clockStaleResyncAfterPackets,
      warmupPackets: c.clockWarmupPackets,
      warmupSlackMs: c.clockWarmupSlackMs,
    });
    this.#buffer = new JitterBuffer<F>({ targetDelayMs: c.targetDelayMs, capacity: c.bufferCapacity });
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** One data-channel message. Never throws. */
  push(message: Uint8Array, ppid: number): void {
    if (this.#closed) return;
    try {
      this.#push(message, ppid);
    } catch (error) {
      this.#logger.error({ err: error }, 'motion packet handling failed');
      this.#drop('internal');
    }
  }

  /** The most recently played frame (what to render now), if any. */
  latest(): PlayedMotionFrame<F> | undefined {
    return this.#latest;
  }

  /** How old the latest played frame is now, on the anchored clock. */
  ageMs(nowMs = this.#now()): number | null {
    return this.#latest === undefined ? null : nowMs - this.#latest.localCaptureMs;
  }

  /** Every played frame, in order, until the stream closes (see the class comment). */
  async *frames(): AsyncGenerator<PlayedMotionFrame<F>, void, undefined> {
    const reader: { queue: PlayedMotionFrame<F>[]; wake: (() => void) | undefined } = { queue: [], wake: undefined };
    this.#iterators.add(reader);
    try {
      while (true) {
        const next = reader.queue.shift();
        if (next !== undefined) {
          yield next;
          continue;
        }
        if (this.#closed) return;
        await new Promise<void>((resolve) => {
          reader.wake = resolve;
        });
        reader.wake = undefined;
      }
    } finally {
      this.#iterators.delete(reader);
    }
  }

  stats(nowMs = this.#now()): MotionStreamStats {
    return {
      peerId: this.peerId,
      dataProducerId: this.dataProducerId,
      receivedPackets: this.#receivedPackets,
      receivedBytes: this.#receivedBytes,
      acceptedFrames: this.#acceptedFrames,
      playedFrames: this.#playedFrames,
      lostFrames: this.#sequence.lostTotal,
      dropped: Object.fromEntries(this.#dropped),
      droppedTotal: this.#droppedTotal,
      jitterMs: this.#jitterMs,
      ageMs: this.ageMs(nowMs),
      kbps: this.#rate.kbps(nowMs),
      bufferedFrames: this.#buffer.size,
      targetDelayMs: this.#buffer.targetDelayMs,
      clockResyncs: this.#clock.resyncs,
    };
  }

  /** Idempotent: stops the playout timer, ends iterators, emits `close`. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#buffer.reset();
    for (const reader of this.#iterators) reader.wake?.();
    this.safeEmit('close');
    this.removeAllListeners();
  }

  protected override onListenerError(event: string, error: unknown): void {
    this.#logger.error({ err: error, event }, 'motion stream listener threw');
  }

  #push(message: Uint8Array, ppid: number): void {
    const arrivalMs = this.#now();
    this.#receivedPackets += 1;
    this.#receivedBytes += message.byteLength;
    this.#rate.add(arrivalMs, message.byteLength);
    this.safeEmit('packet', message.byteLength);

    if (ppid === PPID_STRING || ppid === PPID_STRING_EMPTY || (ppid !== PPID_BINARY && ppid !== PPID_BINARY_EMPTY)) {
      return this.#drop('not_binary');
    }
    if (!this.#bucket.tryTake(arrivalMs)) return this.#drop('rate_limited');
    if (message.byteLength > this.#maxPacketBytes) return this.#drop('oversized');

    const decoded = this.#decode(message);
    if (!decoded.ok) return this.#drop(decoded.error);
    const frame = decoded.frame;
    if (!this.#saneFrame(frame)) return this.#drop('bad_value');

    const clockVerdict = this.#clock.observe(frame.captureTimeMs, arrivalMs);
    if (this.#clock.resyncs !== this.#clockResyncsSeen) {
      // The sender's clock moved: frames held against the old anchor are meaningless now.
      this.#clockResyncsSeen = this.#clock.resyncs;
      const flushed = this.#buffer.reset();
      for (let i = 0; i < flushed; i += 1) this.#drop('stale');
      this.#lastTransitMs = undefined;
      this.#logger.warn({ resyncs: this.#clock.resyncs }, 'motion capture clock re-anchored');
    }
    if (clockVerdict !== 'ok') return this.#drop(clockVerdict);

    const seqVerdict = this.#sequence.accept(frame.seq);
    if (seqVerdict !== 'ok') return this.#drop(seqVerdict);

    this.#updateJitter(arrivalMs - frame.captureTimeMs);
    const localCaptureMs = this.#clock.toLocalMs(frame.captureTimeMs) as number;
    const entry: BufferedFrame<F> = { frame, localCaptureMs, arrivalMs };
    const bufferVerdict = this.#buffer.insert(entry);
    if (bufferVerdict !== 'ok') return this.#drop(bufferVerdict);
    this.#acceptedFrames += 1;
    this.#schedulePlayout(arrivalMs);
  }

  #saneFrame(frame: F): boolean {
    const { landmarks, pose, imageWidth, imageHeight, captureTimeMs, seq } = frame;
    if (!Number.isFinite(captureTimeMs) || !Number.isInteger(seq)) return false;
    if (!Number.isInteger(imageWidth) || !Number.isInteger(imageHeight)) return false;
    if (imageWidth < 16 || imageHeight < 16 || imageWidth > 8192 || imageHeight > 8192) return false;
    const lo = -this.#config.landmarkMargin;
    const hi = 1 + this.#config.landmarkMargin;
    for (let i = 0; i < landmarks.length; i += 1) {
      const v = landmarks[i] as number;
      if (!Number.isFinite(v)) return false;
      // x and y are image-normalised; z is about the same scale as x, so the same bound holds.
      if (i % 3 !== 2 ? v < lo || v > hi : Math.abs(v) > hi) return false;
    }
    if (!Number.isFinite(pose.scale)) return false;
    for (const v of pose.rotation) if (!Number.isFinite(v)) return false;
    for (const v of pose.translation) if (!Number.isFinite(v)) return false;
    return true;
  }

  /** RFC 3550 §6.4.1: J += (|D| − J) / 16, D the change in transit time between packets. */
  #updateJitter(transitMs: number): void {
    if (this.#lastTransitMs !== undefined) {
      const d = Math.abs(transitMs - this.#lastTransitMs);
      this.#jitterMs += (d - this.#jitterMs) / 16;
    }
    this.#lastTransitMs = transitMs;
  }

  #drop(reason: MotionDropReason): void {
    this.#droppedTotal += 1;
    this.#dropped.set(reason, (this.#dropped.get(reason) ?? 0) + 1);
    this.safeEmit('drop', reason);
  }

  #schedulePlayout(nowMs: number): void {
    const dueMs = this.#buffer.nextDueMs();
    if (dueMs === undefined || this.#closed) return;
    if (this.#timer !== undefined && this.#timerDueMs <= dueMs) return;
    clearTimeout(this.#timer);
    this.#timerDueMs = dueMs;
    this.#timer = setTimeout(() => this.#playout(), Math.max(0, dueMs - nowMs));
    // The stream's owner keeps the process alive, not its playout timer.
    this.#timer.unref();
  }

  #playout(): void {
    this.#timer = undefined;
    this.#timerDueMs = Number.POSITIVE_INFINITY;
    if (this.#closed) return;
    const nowMs = this.#now();
    for (const entry of this.#buffer.popDue(nowMs)) {
      const played: PlayedMotionFrame<F> = { ...entry, playedAtMs: nowMs };
      this.#latest = played;
      this.#playedFrames += 1;
      for (const reader of this.#iterators) {
        reader.queue.push(played);
        if (reader.queue.length > this.#iteratorQueue) reader.queue.shift();
        reader.wake?.();
      }
      this.safeEmit('frame', played);
      if (this.#closed) return;
    }
    this.#schedulePlayout(nowMs);
  }
}
