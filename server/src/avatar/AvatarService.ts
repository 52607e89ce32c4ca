/**
 * Runs one AvatarSession per avatar-mode peer of every room. A peer starts rendering with
 * `start(room, peer, identityId)` (the `startAvatar` signalling request): the identity must be
 * granted (IdentityAccess), its student must load; otherwise the peer gets a clear error
 * (avatarStartError) and the call goes on. The session renders from the peer's camera motion
 * (MotionStreamSource) — or another MotionSource given to `start` — and closes when the peer
 * stops, leaves, or its room closes. Each second it pushes `avatarStats` to the driver's page
 * and refreshes the Prometheus gauges; state changes go out as `avatarState`.
 */
import type { AvatarEvent, AvatarStats } from '@shared/avatar/avatarProtocol';
import type { IdentityAccess, IdentityRequester, IdentitySummary, ResolvedIdentity } from '../identities/IdentityAccess';
import type { Logger } from '../logger';
import type { MotionService } from '../motion/MotionService';
import type { DecodedMotionFrame } from '../motion/motionTypes';
import type { Peer } from '../rooms/Peer';
import type { Room } from '../rooms/Room';
import { TypedEmitter } from '../util/TypedEmitter';
import type { AvatarConfig } from './avatarConfig';
import { AvatarCapacityError, AvatarStartCancelledError, avatarStartError, PeerLeftError } from './avatarErrors';
import { SignallingError } from '../signalling/SignallingError';
import type { AvatarMetrics } from './AvatarMetrics';
import { AvatarSession } from './AvatarSession';
import type { MotionSource } from './MotionSource';
import { MotionStreamSource } from './MotionStreamSource';
import { StudentModelRegistry } from './StudentModelRegistry';
import type { StudentModel } from './StudentModel';
import { consumerBandwidthProbe } from './consumerBandwidthProbe';

/** Builds a session's MotionSource once the identity is resolved (the audio driver needs its neutral landmarks). */
/** Builds a session's motion source once the identity is granted; `camera()` opens the peer's camera motion stream. */
export type MotionSourceFactory = (identity: ResolvedIdentity, camera: () => MotionSource) => Promise<MotionSource>;

export interface AvatarServiceOptions {
  motion: MotionService<DecodedMotionFrame>;
  identities: IdentityAccess;
  /** Who asks, as the join established it (with the join token's identities); default: room, id and name only. */
  requester?: (room: Room, peer: Peer) => IdentityRequester;
  config: AvatarConfig;
  metrics: AvatarMetrics;
  logger: Logger;
}

export type AvatarServiceEvents = {
  sessionopened: [AvatarSession];
  /** Every frame and drop of every session (typed metrics events). */
  event: [AvatarEvent];
};

export class AvatarService extends TypedEmitter<AvatarServiceEvents> {
  readonly models: StudentModelRegistry;
  readonly #options: AvatarServiceOptions;
  readonly #log: Logger;
  readonly #sessions = new Map<Peer, AvatarSession>();
  /** Per peer: the settled-promise tail of its start/stop requests (they run one at a time). */
  readonly #queues = new Map<Peer, Promise<void>>();
  /** Per peer: the number of its latest start/stop request (an older start is superseded). */
  readonly #tickets = new WeakMap<Peer, number>();
  /** Peers whose start has passed the capacity check and is still building its session. */
  readonly #starting = new Set<Peer>();
  readonly #timer: NodeJS.Timeout;
  #closed = false;

  constructor(options: AvatarServiceOptions) {
    super();
    this.#options = options;
    this.#log = options.logger.child({ component: 'AvatarService' });
    this.models = new StudentModelRegistry({ inference: options.config.inference, logger: options.logger });
    this.#timer = setInterval(() => this.#tick(), 1000);
    this.#timer.unref();
  }

  /** Output frame rate of every avatar. */
  get fps(): number {
    return this.#options.config.fps;
  }

  #requester(room: Room, peer: Peer): IdentityRequester {
    return this.#options.requester?.(room, peer) ?? { roomId: room.id, peerId: peer.id, displayName: peer.displayName };
  }

  /** The session of a driver, if it is rendering. */
  session(peer: Peer): AvatarSession | undefined {
    return this.#sessions.get(peer);
  }

  get sessions(): readonly AvatarSession[] {
    return [...this.#sessions.values()];
  }

  /** Identities this peer may pick (the page's picker). */
  async listIdentities(room: Room, peer: Peer): Promise<IdentitySummary[]> {
    return this.#options.identities.listGranted(this.#requester(room, peer));
  }

  /**
   * Starts (or switches) the peer's avatar to `identityId`. Throws a SignallingError the page can
   * show: NOT_FOUND (unknown identity), FORBIDDEN (not granted), UNAVAILABLE (model missing,
   * corrupted or failing to load; or AvatarStartCancelledError when a later startAvatar/stopAvatar
   * of the same peer superseded this one).
   *
   * Per peer, start and stop requests run one at a time in arrival order and the last one wins:
   * a start still waiting when a later request arrives is cancelled, and one in progress frees
   * everything it built (server producer, ffmpeg, model reference) as soon as its current step
   * ends. So a peer has at most one session and one server producer at any time.
   *
   * A MotionSource given here belongs to the service from then on: it is closed with the session,
   * or at once when the start is refused, cancelled, or finds the same avatar already running.
   */
  async start(room: Room, peer: Peer, identityId: string, source?: MotionSource | MotionSourceFactory,
    options: { kind?: string } = {}): Promise<AvatarSession> {
    if (this.#closed) {
      if (typeof source === 'object') source.close();
      throw avatarStartError(new Error('avatar service closed'), identityId);
    }
    const ticket = this.#nextTicket(peer);
    return this.#enqueue(peer, () => this.#start(room, peer, identityId, ticket, source, options.kind));
  }

  /**
   * Stops the peer's avatar (its producer closes for everyone), cancelling any start of this peer
   * still waiting or in progress; resolves once everything is freed. Idempotent.
   */
  async stop(peer: Peer): Promise<void> {
    this.#nextTicket(peer);
    await this.#enqueue(peer, () => this.#closeSession(peer));
  }

  /** Idempotent: cancels starts in progress, closes every session and model. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    await Promise.all([...this.#queues.values()]);
    await Promise.all([...this.#sessions.keys()].map((peer) => this.#closeSession(peer)));
    await this.models.close();
    this.removeAllListeners();
  }

  /** A new request of this peer: every earlier start of it is now superseded. */
  #nextTicket(peer: Peer): number {
    const ticket = (this.#tickets.get(peer) ?? 0) + 1;
    this.#tickets.set(peer, ticket);
    return ticket;
  }

  #superseded(peer: Peer, ticket: number): boolean {
    return this.#closed || this.#tickets.get(peer) !== ticket;
  }

  /** Runs `operation` after every earlier request of this peer has settled. */
  #enqueue<T>(peer: Peer, operation: () => Promise<T>): Promise<T> {
    const previous = this.#queues.get(peer) ?? Promise.resolve();
    const result = previous.then(operation);
    const settled = result.then(
      () => undefined,
      () => undefined,
    );
    this.#queues.set(peer, settled);
    void settled.then(() => {
      if (this.#queues.get(peer) === settled) this.#queues.delete(peer);
    });
    return result;
  }

  async #closeSession(peer: Peer): Promise<void> {
    const session = this.#sessions.get(peer);
    if (!session) return;
    this.#sessions.delete(peer);
    await session.close();
  }

  protected override onListenerError(event: string, error: unknown): void {
    this.#log.error({ err: error, event }, 'AvatarService listener threw');
  }

  async #start(room: Room, peer: Peer, identityId: string, ticket: number, givenSource?: MotionSource | MotionSourceFactory,
    kind?: string): Promise<AvatarSession> {
    const { identities, config, metrics, motion } = this.#options;
    const log = peer.log.child({ component: 'AvatarService', identityId });
    if (this.#superseded(peer, ticket)) {
      if (typeof givenSource !== 'function') givenSource?.close();
      throw new AvatarStartCancelledError(identityId);
    }
    const existing = this.#sessions.get(peer);
    // The same identity driven by the same signals: nothing to change (a source given for it is
    // not used, and this service owns what it is given: it closes it).
    if (existing?.identity.identityId === identityId && !existing.closed && (kind === undefined || this.#sources.get(existing)?.kind === kind)) {
      if (typeof givenSource !== 'function' && givenSource !== this.#sources.get(existing)) givenSource?.close();
      return existing;
    }
    peer.notify({ type: 'avatarState', data: { state: 'starting', identityId } });
    let source: MotionSource | undefined = typeof givenSource === 'function' ? undefined : givenSource;
    let session: AvatarSession | undefined;
    let model: StudentModel | undefined;
    const checkStillWanted = (): void => {
      if (peer.closed || room.closed) throw new PeerLeftError(identityId);
      if (this.#superseded(peer, ticket)) throw new AvatarStartCancelledError(identityId);
    };
    try {
      const identity = await identities.resolve(this.#requester(room, peer), identityId);
      checkStillWanted();
      const camera = (): MotionSource => new MotionStreamSource(motion, room.id, peer.id);
      source = typeof givenSource === 'function' ? await givenSource(identity, camera) : (givenSource ?? camera());
      checkStillWanted();
      // Granted, its motion source built (e.g. the microphone is there) and its model loaded: only
      // now replace the current avatar, so a refused switch (an unloadable model included) leaves
      // it running.
      // Counted with the other peers' starts still in progress, which have passed this check
      // but are not in #sessions yet: concurrent starts cannot exceed the limit together.
      const limit = config.maxSessions;
      const others = new Set([...this.#sessions.keys(), ...this.#starting]);
      others.delete(peer);
      if (others.size >= limit) throw new AvatarCapacityError(limit);
      this.#starting.add(peer);
      model = await this.models.acquire(identity.modelPath, identity.manifest);
      checkStillWanted();
      // The driver's neutral face does not depend on the identity: a switch keeps the calibration.
      const driverNeutral = this.#sessions.get(peer)?.driverNeutral;
      await this.#closeSession(peer);
      checkStillWanted();
      const held = model;
      model = undefined; // the session owns the hold from here (and releases it if create fails)
      session = await AvatarSession.create({
        room,
        peer,
        identity,
        source,
        models: this.models,
        model: held,
        config,
        logger: log,
        ...(driverNeutral ? { driverNeutral } : {}),
        bandwidthProbe: consumerBandwidthProbe(room),
      });
      checkStillWanted();
      this.#track(room, peer, session, source);
      log.info({ producerId: session.producerId }, 'avatar session started');
      return session;
    } catch (thrown) {
      await session?.close();
      if (model) await this.models.release(model);
      source?.close();
      const error = !(thrown instanceof SignallingError) && (peer.closed || room.closed) ? new PeerLeftError(identityId, thrown) : thrown;
      const refusal = avatarStartError(error, identityId);
      if (refusal instanceof AvatarStartCancelledError) {
        log.info('avatar start cancelled: a later request of this peer superseded it');
        throw refusal;
      }
      metrics.sessionStartFailures.inc({ reason: refusal.code });
      if (refusal instanceof PeerLeftError) log.warn({ code: refusal.code }, refusal.message);
      else if (refusal.code === 'INTERNAL') log.error({ err: error, code: refusal.code }, `avatar could not start: ${refusal.message}`);
      else log.info({ code: refusal.code }, `avatar refused: ${refusal.message}`);
      if (!peer.closed) peer.notify({ type: 'avatarState', data: { state: 'error', identityId, message: refusal.message } });
      throw refusal;
    } finally {
      this.#starting.delete(peer);
    }
  }

  #track(room: Room, peer: Peer, session: AvatarSession, source: MotionSource): void {
    const { metrics } = this.#options;
    this.#sources.set(session, source);
    const labels = { room: room.id, peer: peer.id };
    const identityId = session.identity.identityId;
    this.#sessions.set(peer, session);
    metrics.sessions.inc();
    const onPeerClose = (): void => void this.stop(peer).catch((err: unknown) => this.#log.error({ err }, 'closing a departed peer\'s avatar failed'));
    peer.once('close', onPeerClose);
    session.on('event', (event) => {
      metrics.observe(labels, event);
      this.safeEmit('event', event);
    });
    session.on('state', (state) => {
      peer.notify({ type: 'avatarState', data: { state, identityId, producerId: session.producerId } });
    });
    session.once('close', () => {
      peer.off('close', onPeerClose);
      source.close();
      if (this.#sessions.get(peer) === session) this.#sessions.delete(peer);
      metrics.sessions.dec();
      metrics.remove(labels);
      this.#syncListeners(session, true);
      if (!peer.closed) peer.notify({ type: 'avatarState', data: { state: 'stopped', identityId } });
    });
    peer.notify({ type: 'avatarState', data: { state: session.state, identityId, producerId: session.producerId } });
    this.safeEmit('sessionopened', session);
  }

  #tick(): void {
    for (const [peer, session] of this.#sessions) {
      this.#syncListeners(session);
      const stats = this.stats(session);
      this.#options.metrics.sample({ room: session.room.id, peer: peer.id }, stats);
      peer.notify({ type: 'avatarStats', data: stats });
    }
  }

  /**
   * The session's stats as its driver's panel gets them (`avatarStats`): the session's own, plus
   * the voice → mouth figures of a voice-driven source and the lip sync applied for listeners.
   */
  stats(session: AvatarSession): AvatarStats {
    const source = this.#sources.get(session);
    const audioToLip = source?.audioToLip?.();
    const { avSync } = this.#options.config;
    const own = session.stats();
    return {
      ...own,
      // the session's idle blinks (a lost driver) plus those of a source that blinks itself (voice)
      blinks: own.blinks + (source?.blinks ?? 0),
      ...(audioToLip ? { audioToLip } : {}),
      avSync: {
        audioDelayMs: avSync ? (this.#lastSync.get(session)?.audioDelayMs ?? null) : null,
        measuredDelayMs: session.videoDelayMs(),
        extraMs: this.#syncExtraMs(session),
      },
    };
  }

  /** The fixed part of the listeners' voice delay: the camera's or the voice-driven avatar's. */
  #syncExtraMs(session: AvatarSession): number {
    const { avSyncExtraMs, avSyncAudioExtraMs } = this.#options.config;
    return this.#sources.get(session)?.audioToLip ? avSyncAudioExtraMs : avSyncExtraMs;
  }

  /**
   * Lip sync (README "Avatar rendering"): tells every other human in the room to delay this
   * driver's voice by the avatar's measured delay (+ avSyncExtraMs, or avSyncAudioExtraMs for a
   * voice-driven avatar), when it moved by ≥ 10 ms (and every 5 s for late joiners); 0 when the
   * avatar stops.
   */
  #syncListeners(session: AvatarSession, stopped = false): void {
    if (!this.#options.config.avSync) return;
    const measured = session.videoDelayMs();
    if (!stopped && measured === null) return;
    const audioDelayMs = stopped ? 0 : listenerAudioDelayMs(measured as number, this.#syncExtraMs(session));
    const last = this.#lastSync.get(session);
    const now = performance.now();
    if (!stopped && last && Math.abs(last.audioDelayMs - audioDelayMs) < 10 && now - last.atMs < 5000) return;
    this.#lastSync.set(session, { audioDelayMs, atMs: now });
    for (const listener of session.room.peers.values()) {
      if (listener === session.peer || listener.kind !== 'human' || listener.closed) continue;
      listener.notify({ type: 'avatarSync', data: { peerId: session.peer.id, audioDelayMs } });
    }
  }

  readonly #lastSync = new WeakMap<AvatarSession, { audioDelayMs: number; atMs: number }>();
  readonly #sources = new WeakMap<AvatarSession, MotionSource>();
}

/**
 * The voice delay listeners apply (ms, whole, within the 0–4000 their jitter buffer target takes):
 * the avatar's measured delay behind the voice at the server plus the fixed extra.
 */
export function listenerAudioDelayMs(measuredDelayMs: number, extraMs: number): number {
  return Math.max(0, Math.min(4000, Math.round(measuredDelayMs + extraMs)));
}
