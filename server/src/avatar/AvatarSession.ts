/**
 * One avatar-mode peer's avatar: motion source → retargeting onto the identity → student
 * inference (shared render worker) → VP8 (KeyframeEncoder) → RTP → the room's server producer,
 * at a fixed frame rate.
 *
 * Each tick (Pacer, `fps`): the FaceMotionController picks the face (newest motion, held,
 * eased to neutral, or idle motion — never a frozen or black face), and the frame is rendered
 * if this session's previous inference is done; otherwise the tick is dropped and counted
 * (`inference_busy`): stale frames are never queued. While the render worker restarts the
 * session re-sends its last frame, so viewers keep a picture. PLI/FIR from consumers (RTCP on
 * the RTP socket) make the next frame a key frame. The bitrate follows the consumers' available
 * outgoing bitrate (`bandwidthProbe`), within config bounds.
 *
 * `close()` (idempotent) stops the clock, closes the producer (clients see it go), the encoder
 * processes and the RTP socket, and releases the student model (closed with its last session).
 */
import { randomInt } from 'node:crypto';
import type { AvatarEvent, AvatarFrameEvent, AvatarSessionState, AvatarStats } from '@shared/avatar/avatarProtocol';
import type { ResolvedIdentity } from '../identities/IdentityAccess';
import type { Logger } from '../logger';
import type { Peer } from '../rooms/Peer';
import type { Room } from '../rooms/Room';
import type { ServerProducer } from '../rooms/ServerProducer';
import { TypedEmitter } from '../util/TypedEmitter';
import type { AvatarConfig } from './avatarConfig';
import { FaceMotionController, type FaceMotionFrame, type FaceMotionState } from './FaceMotionController';
import type { MotionSource } from './MotionSource';
import { Pacer, type PacerTick } from './Pacer';
import { RecentValues } from './RecentValues';
import { SessionStats, type DropReason, type SentFrameRecord } from './SessionStats';
import type { MetricFace } from './retarget/faceGeometry';
import { Retargeter } from './retarget/retarget';
import { KeyframeEncoder, type KeyframeReason } from './rtp/KeyframeEncoder';
import { RtpSender } from './rtp/RtpSender';
import { EncoderClosedError } from './rtp/FfmpegVp8Encoder';
import { StudentUnavailableError, type StudentModel } from './StudentModel';
import type { StudentModelRegistry } from './StudentModelRegistry';

export const AVATAR_PAYLOAD_TYPE = 101;
const RTP_CLOCK_HZ = 90_000;
/** Encoded frames allowed inside the encoder before new ones are dropped. */
const MAX_ENCODER_IN_FLIGHT = 2;
/** Phase lock: how long before a tick new motion should be available (ms). */
const PHASE_MARGIN_MS = 3;

export type AvatarSessionEvents = {
  event: [AvatarEvent];
  state: [AvatarSessionState];
  close: [];
};

export interface AvatarSessionOptions {
  room: Room;
  /** The driver (the human peer in avatar mode). */
  peer: Peer;
  identity: ResolvedIdentity;
  source: MotionSource;
  models: StudentModelRegistry;
  /**
   * Optional: the identity's student already acquired from `models` (AvatarService loads it before
   * replacing a running avatar); the session takes over that hold and releases it on close.
   */
  model?: StudentModel;
  config: AvatarConfig;
  logger: Logger;
  /** Optional: the driver's neutral face calibrated by the avatar this one replaces (no new calibration). */
  driverNeutral?: MetricFace;
  /** Optional: the consumers' available outgoing bitrate (bps), or undefined if unknown. */
  bandwidthProbe?: (producerId: string) => Promise<number | undefined>;
}

export type { SentFrameRecord } from './SessionStats';

export class AvatarSession extends TypedEmitter<AvatarSessionEvents> {
  readonly room: Room;
  readonly peer: Peer;
  readonly identity: ResolvedIdentity;
  readonly serverProducer: ServerProducer;
  readonly #options: AvatarSessionOptions;
  readonly #log: Logger;
  readonly #model: StudentModel;
  readonly #encoder: KeyframeEncoder;
  readonly #rtp: RtpSender;
  readonly #controller: FaceMotionController;
  readonly #pacer: Pacer;
  readonly #startMs: number;
  readonly #rtpBase: number;
  #closed = false;
  #state: AvatarSessionState = 'starting';
  #inferenceBusy = false;
  #pendingTick: PacerTick | undefined;
  #lastFrame: Uint8Array | undefined;
  #bandwidthTimer: NodeJS.Timeout | undefined;
  /** The last consumer bandwidth estimate (kbps), null before one is reported. */
  #bandwidthEstimateKbps: number | null = null;
  #lastDropWarnMs = Number.NEGATIVE_INFINITY;
  #sendChain: Promise<void> = Promise.resolve();
  readonly #stats = new SessionStats();

  private constructor(options: AvatarSessionOptions, parts: { model: StudentModel; serverProducer: ServerProducer; rtp: RtpSender; encoder: KeyframeEncoder }) {
    super();
    this.#options = options;
    this.room = options.room;
    this.peer = options.peer;
    this.identity = options.identity;
    this.#log = options.peer.log.child({ component: 'AvatarSession', identityId: options.identity.identityId });
    this.#model = parts.model;
    this.serverProducer = parts.serverProducer;
    this.#rtp = parts.rtp;
    this.#encoder = parts.encoder;
    const { manifest } = options.identity;
    const retargeter = new Retargeter({
      landmarks: manifest.identity.neutralLandmarks,
      width: manifest.identity.imageSize.width,
      height: manifest.identity.imageSize.height,
    });
    const c = options.config;
    this.#controller = new FaceMotionController({
      source: options.source,
      retargeter,
      timing: {
        calibrationMs: c.calibrationMs,
        calibrationMinFrames: c.calibrationMinFrames,
        holdAfterMs: c.holdAfterMs,
        easeAfterMs: c.easeAfterMs,
        easeMs: c.easeMs,
        idleAfterMs: c.idleAfterMs,
        blinksPerMinute: c.blinksPerMinute,
        blinkDurationMs: c.blinkDurationMs,
      },
      seed: randomInt(1, 2 ** 31),
      ...(options.driverNeutral ? { driverNeutral: options.driverNeutral } : {}),
    });
    this.#startMs = performance.now();
    this.#rtpBase = randomInt(0, 2 ** 31);
    this.#pacer = new Pacer({ fps: c.fps, onTick: (tick) => this.#tick(tick) });
    this.#rtp.on('keyframeRequest', (kind) => this.#requestKeyframe(kind));
    this.#encoder.on('switched', (reason, kbps) => this.#log.debug({ reason, kbps }, 'encoder switched'));
    this.#model.on('crashed', this.#onModelCrashed);
    this.#model.on('restarted', this.#onModelRestarted);
    this.serverProducer.once('close', this.#onProducerClosed);
    options.source.once('close', this.#onSourceClosed);
  }

  /**
   * Loads (or shares) the identity's student, publishes the avatar track and starts rendering.
   * Throws StudentLoadError (model cannot load) or the room's errors; nothing is left behind.
   */
  static async create(options: AvatarSessionOptions): Promise<AvatarSession> {
    const { room, peer, identity, models, config } = options;
    const model = options.model ?? (await models.acquire(identity.modelPath, identity.manifest));
    let serverProducer: ServerProducer | undefined;
    let rtp: RtpSender | undefined;
    let encoder: KeyframeEncoder | undefined;
    try {
      const ssrc = randomInt(1, 2 ** 32 - 1);
      serverProducer = await room.addServerProducer({
        displayName: `${peer.displayName} (AI avatar)`,
        kind: 'video',
        source: 'avatar',
        codec: {
          mimeType: 'video/VP8',
          payloadType: AVATAR_PAYLOAD_TYPE,
          clockRate: RTP_CLOCK_HZ,
          rtcpFeedback: [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }, { type: 'ccm', parameter: 'fir' }],
        },
        ssrc,
        synthetic: { kind: 'ai-avatar', drivenByPeerId: peer.id, identityId: identity.identityId },
      });
      rtp = await RtpSender.open({ rtpPort: serverProducer.rtpPort, payloadType: AVATAR_PAYLOAD_TYPE, ssrc, logger: peer.log });
      const e = config.encoder;
      encoder = new KeyframeEncoder(
        {
          ffmpegPath: e.ffmpegPath,
          size: model.outputSize,
          fps: config.fps,
          bitrateKbps: e.bitrateKbps,
          keyframeIntervalFrames: Math.round(e.keyframeIntervalS * config.fps),
          cpuUsed: e.cpuUsed,
        },
        peer.log.child({ component: 'KeyframeEncoder' }),
      );
      const session = new AvatarSession(options, { model, serverProducer, rtp, encoder });
      session.#startClock();
      return session;
    } catch (error) {
      encoder?.close();
      rtp?.close();
      serverProducer?.close();
      await models.release(model);
      throw error;
    }
  }

  /** The driver's calibrated neutral face (camera-driven avatars), for the avatar that replaces this one. */
  get driverNeutral(): MetricFace | undefined {
    return this.#controller.driverNeutral;
  }

  get closed(): boolean {
    return this.#closed;
  }

  get state(): AvatarSessionState {
    return this.#state;
  }

  get producerId(): string {
    return this.serverProducer.producer.id;
  }

  /** Live ffmpeg pids of this session (for leak tests). */
  get encoderPids(): number[] {
    return this.#encoder.pids;
  }

  /** The last sent frames (RTP timestamp → origin capture time), oldest first. */
  recentFrames(): readonly SentFrameRecord[] {
    return this.#stats.recentFrames();
  }

  /** PLI/FIR → key frame sent (ms), the last few. */
  get keyframeLatency(): RecentValues {
    return this.#stats.keyframeLatency;
  }

  /** This session's `avatarStats` at `nowMs` (the frame figures over the last ~2 s of frames). */
  stats(nowMs = performance.now()): AvatarStats {
    return {
      identityId: this.identity.identityId,
      state: this.#state,
      ...this.#stats.snapshot(nowMs),
      bitrateKbps: this.#encoder.bitrateKbps,
      bandwidthEstimateKbps: this.#bandwidthEstimateKbps,
      workerRestarts: this.#model.restarts,
      blinks: this.#controller.blinks,
    };
  }

  /**
   * Median delay from the motion's capture (anchored on the server clock) to its frame's RTP sent,
   * over the last frames (ms): how far the avatar trails the driver's voice at the SFU, less the
   * capture-side part the server cannot see. Null before any live frame.
   */
  videoDelayMs(): number | null {
    return this.#stats.captureToSentMsP50();
  }

  /** Idempotent: stops rendering and frees the producer, encoders, socket and model. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#pacer.stop();
    clearInterval(this.#bandwidthTimer);
    this.#model.off('crashed', this.#onModelCrashed);
    this.#model.off('restarted', this.#onModelRestarted);
    this.serverProducer.off('close', this.#onProducerClosed);
    this.#options.source.off('close', this.#onSourceClosed);
    this.#encoder.close();
    this.#rtp.close();
    this.serverProducer.close();
    this.#setState('stopped');
    try {
      await this.#options.models.release(this.#model);
    } catch (error) {
      // Still a closed session: its owner must hear `close` (metrics, source, peer listeners).
      this.#log.error({ err: error }, 'releasing the student model failed');
    }
    this.#log.info({ stats: this.stats() }, 'avatar session closed');
    this.safeEmit('close');
    this.removeAllListeners();
  }

  protected override onListenerError(event: string, error: unknown): void {
    this.#log.error({ err: error, event }, 'AvatarSession listener threw');
  }

  readonly #onModelCrashed = (): void => {
    this.#log.warn('render worker crashed; holding the last frame until it is back');
  };

  readonly #onModelRestarted = (): void => {
    this.#log.info('render worker restarted; rendering again');
  };

  readonly #onProducerClosed = (): void => {
    void this.close();
  };

  readonly #onSourceClosed = (): void => {
    // The motion stream ended (peer left avatar mode or its channel closed): keep the idle face
    // until the service stops the session; nothing to do here.
    this.#log.debug('motion source closed');
  };

  #startClock(): void {
    this.#pacer.start();
    this.#requestKeyframe('start');
    const probe = this.#options.bandwidthProbe;
    if (probe) {
      this.#bandwidthTimer = setInterval(() => void this.#followBandwidth(probe), 2000);
      this.#bandwidthTimer.unref();
    }
  }

  async #followBandwidth(probe: (producerId: string) => Promise<number | undefined>): Promise<void> {
    // One probe at a time: getStats on many consumers' transports can outlast the 2 s period.
    if (this.#probing) return;
    this.#probing = true;
    try {
      const bps = await probe(this.producerId);
      if (bps === undefined || this.#closed) return;
      this.#bandwidthEstimateKbps = bps / 1000;
      const e = this.#options.config.encoder;
      // Leave 20 % of the estimate for audio and headroom.
      const kbps = Math.max(e.minBitrateKbps, Math.min(e.maxBitrateKbps, (0.8 * bps) / 1000));
      this.#encoder.setBitrate(kbps);
    } catch (error) {
      this.#log.debug({ err: error }, 'bandwidth probe failed');
    } finally {
      this.#probing = false;
    }
  }

  #probing = false;

  /**
   * The next encoded frame becomes a key frame. For a viewer's PLI/FIR it does not wait for the
   * next inference (which may take longer than the 200 ms budget on a busy CPU): the last
   * rendered picture is encoded again at once, as a key frame, with an RTP timestamp just after
   * the last one submitted (the following rendered frames keep increasing). At most one such
   * immediate key frame per 250 ms; requests in between ride on the flag.
   */
  #requestKeyframe(reason: KeyframeReason): void {
    const nowMs = performance.now();
    if (reason === 'pli' || reason === 'fir') this.#stats.keyframeRequested(nowMs);
    this.#encoder.requestKeyframe(reason);
    const immediate = (reason === 'pli' || reason === 'fir') && this.#lastFrame !== undefined && this.#lastSubmittedTs !== undefined;
    if (!immediate || this.#closed || nowMs - this.#lastImmediateKeyframeMs < 250) return;
    this.#lastImmediateKeyframeMs = nowMs;
    const repeat: FaceMotionFrame = { state: this.#lastFaceState, sample: undefined, motionAgeMs: null, calibration: 1 };
    this.#encodeAndSend(this.#lastFrame as Uint8Array, ((this.#lastSubmittedTs as number) + 1) >>> 0, repeat, nowMs, { queueMs: 0, inferenceMs: 0 }, undefined, this.#lastMouth);
  }

  #lastSubmittedTs: number | undefined;
  #lastImmediateKeyframeMs = Number.NEGATIVE_INFINITY;
  #lastMouth = 0;
  #lastFaceState: FaceMotionState = 'idle';

  #setState(state: AvatarSessionState): void {
    if (state === this.#state) return;
    this.#state = state;
    this.safeEmit('state', state);
  }

  #drop(reason: DropReason, nowMs: number): void {
    this.#stats.drop(reason);
    this.safeEmit('event', { type: 'avatar_drop', timestampMs: Date.now(), roomId: this.room.id, peerId: this.peer.id, reason });
    if (reason === 'inference_busy' && nowMs - this.#lastDropWarnMs > 5000) {
      this.#lastDropWarnMs = nowMs;
      this.#log.warn({ dropped: this.#stats.dropped }, 'avatar inference is falling behind the output rate; dropping frames');
    }
  }

  /**
   * One output tick. If this session's previous inference is still running, the tick waits as
   * the one pending tick and renders (with the newest motion at that moment) as soon as the
   * worker is free; a tick that finds one already pending replaces it, and the replaced one is
   * dropped and counted (`inference_busy`). So at most one frame waits and none is stale.
   */
  #tick(tick: PacerTick): void {
    if (this.#closed) return;
    if (tick.lateMs > this.#pacer.periodMs / 2 || tick.skipped > 0) this.#stats.lateTicks += 1 + tick.skipped;
    if (this.#inferenceBusy) {
      if (this.#pendingTick) this.#drop('inference_busy', performance.now());
      this.#pendingTick = tick;
      return;
    }
    this.#render(tick);
  }

  #render(tick: PacerTick): void {
    const nowMs = performance.now();
    const rtpTimestamp = (this.#rtpBase + Math.round(((tick.dueMs - this.#startMs) * RTP_CLOCK_HZ) / 1000)) >>> 0;
    const { landmarks: face, frame } = this.#controller.tick(nowMs);
    const mouthSource = this.#options.source.mouth;
    const landmarks = mouthSource && frame.state !== 'calibrating' ? mouthSource.apply(face) : face;
    this.#setState(frame.state);
    this.#lastFaceState = frame.state;
    this.#phaseLock(frame, nowMs);
    if (!this.#model.ready) {
      // Worker restarting: keep the picture (the last frame) flowing.
      this.#drop('worker_unavailable', nowMs);
      if (this.#lastFrame) this.#encodeAndSend(this.#lastFrame, rtpTimestamp, frame, tick.dueMs, { queueMs: 0, inferenceMs: 0 }, landmarks);
      return;
    }
    this.#inferenceBusy = true;
    const mouth = mouthOpening(landmarks);
    const done = (): void => {
      this.#inferenceBusy = false;
      const pending = this.#pendingTick;
      this.#pendingTick = undefined;
      if (pending && !this.#closed) this.#render(pending);
    };
    this.#model.render(landmarks).then(
      (rendered) => {
        if (!this.#closed) {
          this.#stats.rendered(rendered.inferenceMs);
          this.#lastFrame = rendered.frame;
          const queueMs = Math.max(0, rendered.roundTripMs - rendered.inferenceMs);
          this.#encodeAndSend(rendered.frame, rtpTimestamp, frame, tick.dueMs, { queueMs, inferenceMs: rendered.inferenceMs }, undefined, mouth);
        }
        done();
      },
      (error: unknown) => {
        if (!this.#closed) {
          if (error instanceof StudentUnavailableError) this.#drop('worker_unavailable', nowMs);
          else {
            this.#drop('inference_error', nowMs);
            this.#log.error({ err: error }, 'inference failed');
          }
        }
        done();
      },
    );
  }

  /**
   * Shifts the tick phase so ticks fall just after new motion becomes available (the rate stays
   * fixed): every 5 new samples, if even the shortest of the last 10 waits (sample available →
   * tick) exceeds the 3 ms margin, the next ticks move earlier by the excess (at most a quarter
   * period at once). Tracks a drifting sender clock; samples at another rate simply never lock.
   */
  #phaseLock(frame: FaceMotionFrame, tickMs: number): void {
    const sample = frame.sample;
    if (frame.state !== 'live' || !sample || sample.seq === this.#lockedSeq) return;
    this.#lockedSeq = sample.seq;
    this.#waits.add(tickMs - sample.availableAtMs);
    this.#waitCount += 1;
    if (this.#waitCount % 5 !== 0) return;
    const minWait = this.#waits.quantile(0) as number;
    if (minWait > PHASE_MARGIN_MS) this.#pacer.nudge(-(minWait - PHASE_MARGIN_MS));
  }

  #lockedSeq = -1;
  #waitCount = 0;
  readonly #waits = new RecentValues(10);

  #encodeAndSend(
    rgb: Uint8Array,
    rtpTimestamp: number,
    frame: FaceMotionFrame,
    tickDueMs: number,
    times: { queueMs: number; inferenceMs: number },
    landmarks?: Float32Array,
    mouth = landmarks ? mouthOpening(landmarks) : 0,
  ): void {
    if (this.#encoder.inFlight >= MAX_ENCODER_IN_FLIGHT) {
      this.#drop('encoder_busy', tickDueMs);
      return;
    }
    const encoded = this.#encoder.encode(rgb);
    // The send chain below may still be waiting for an older frame (held by an encoder being
    // retired) when this one fails; without a handler now, Node would count the rejection as
    // unhandled (and by default end the process). The chain still reads it, in order.
    encoded.catch(() => undefined);
    this.#lastSubmittedTs = rtpTimestamp;
    this.#lastMouth = mouth;
    // Send in submission order even if encoders switch underneath.
    this.#sendChain = this.#sendChain.then(async () => {
      let result;
      try {
        result = await encoded;
      } catch (error) {
        if (!this.#closed) {
          this.#drop('encoder_error', tickDueMs);
          // A retired encoder (switched out for a key frame) ending with frames still queued is
          // an expected drop under load: counted, not a fault worth a stack trace.
          if (error instanceof EncoderClosedError) this.#log.debug({ reason: error.message }, 'frame dropped: its encoder was retired');
          else this.#log.warn({ err: error }, 'encoding failed');
        }
        return;
      }
      if (this.#closed) return;
      this.#rtp.sendVp8Frame(result.data, rtpTimestamp);
      const sentAtMs = performance.now();
      const timings = this.#stats.sent({
        sentAtMs,
        tickDueMs,
        rtpTimestamp,
        bytes: result.data.length,
        encodeMs: result.encodeMs,
        keyframe: result.keyframe,
        state: frame.state,
        sample: frame.sample,
        mouthOpen: mouth,
      });
      const event: AvatarFrameEvent = {
        type: 'avatar_frame',
        timestampMs: Date.now(),
        roomId: this.room.id,
        peerId: this.peer.id,
        state: frame.state,
        motionAgeMs: timings.motionAgeMs,
        queueMs: times.queueMs,
        inferenceMs: times.inferenceMs,
        encodeMs: result.encodeMs,
        playedToSentMs: timings.playedToSentMs,
        tickToSentMs: sentAtMs - tickDueMs,
        keyframe: result.keyframe,
        bytes: result.data.length,
        rtpTimestamp,
        originCaptureTimeMs: timings.originCaptureTimeMs,
      };
      this.safeEmit('event', event);
    });
  }
}

/** Inner lip gap (13–14) over face height (10–152), in the landmarks' image coordinates. */
export function mouthOpening(landmarks: ArrayLike<number>): number {
  const gap = Math.hypot((landmarks[13 * 3] as number) - (landmarks[14 * 3] as number), (landmarks[13 * 3 + 1] as number) - (landmarks[14 * 3 + 1] as number));
  const height = Math.hypot((landmarks[10 * 3] as number) - (landmarks[152 * 3] as number), (landmarks[10 * 3 + 1] as number) - (landmarks[152 * 3 + 1] as number));
  return height > 0 ? gap / height : 0;
}
