/**
 * Runs one AvatarSession per avatar-mode peer of every room. A peer starts rendering with
 * `start(room, peer, identityId)` (the `startAvatar` signalling request): the identity must be
 * granted (IdentityAccess), its student must load; otherwise the peer gets a clear error
 * (avatarStartError) and the call goes on. The session renders from the peer's camera motion
 * (MotionStreamSource) — or another MotionSource given to `start` — and closes when the peer
 * stops, leaves, or its room closes. Each second it pushes `avatarStats` to the driver's page
 * and refreshes the Prometheus gauges; state changes go out as `avatarState`.
 */
import type { AvatarEvent } from '@shared/avatar/avatarProtocol';
import type { IdentityAccess, IdentityRequester, IdentitySummary, ResolvedIdentity } from '../identities/IdentityAccess';
import type { Logger } from '../logger';
import type { MotionService } from '../motion/MotionService';
import type { DecodedMotionFrame } from '../motion/motionTypes';
import type { Peer } from '../rooms/Peer';
import type { Room } from '../rooms/Room';
import { TypedEmitter } from '../util/TypedEmitter';
import type { AvatarConfig } from './avatarConfig';
import { avatarStartError } from './avatarErrors';
import type { AvatarMetrics } from './AvatarMetrics';
import { AvatarSession } from './AvatarSession';
import type { MotionSource } from './MotionSource';
import { MotionStreamSource } from './MotionStreamSource';
import { StudentModelRegistry } from './StudentModelRegistry';
import { consumerBandwidthProbe } from './consumerBandwidthProbe';

/** Builds a session's MotionSource once the identity is resolved (the audio driver needs its neutral landmarks). */
export type MotionSourceFactory = (identity: ResolvedIdentity) => Promise<MotionSource>;

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
  readonly #starting = new Map<Peer, Promise<AvatarSession>>();
  readonly #timer: NodeJS.Timeout;
  #closed = false;

  constructor(options: AvatarServiceOptions) {
    super();
    this.#options = options;
    this.#log = options.logger.child({ component: 'AvatarService' });
    this.models = new StudentModelRegistry({ inference: options.config.inference, logger: this.#log });
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
   * corrupted or failing to load).
   */
  async start(room: Room, peer: Peer, identityId: string, source?: MotionSource | MotionSourceFactory): Promise<AvatarSession> {
    if (this.#closed) throw avatarStartError(new Error('avatar service closed'), identityId);
    const existing = this.#sessions.get(peer);
    if (existing?.identity.identityId === identityId && !existing.closed) return existing;
    const pending = this.#starting.get(peer);
    if (pending) await pending.catch(() => undefined);
    const starting = this.#start(room, peer, identityId, source);
    this.#starting.set(peer, starting);
    try {
      return await starting;
    } finally {
      if (this.#starting.get(peer) === starting) this.#starting.delete(peer);
    }
  }

  /** Stops the peer's avatar (its producer closes for everyone). Idempotent. */
  async stop(peer: Peer): Promise<void> {
    const session = this.#sessions.get(peer);
    if (!session) return;
    this.#sessions.delete(peer);
    await session.close();
  }

  /** Idempotent: closes every session and model. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    await Promise.all([...this.#starting.values()].map((p) => p.catch(() => undefined)));
    await Promise.all([...this.#sessions.keys()].map((peer) => this.stop(peer)));
    await this.models.close();
    this.removeAllListeners();
  }

  protected override onListenerError(event: string, error: unknown): void {
    this.#log.error({ err: error, event }, 'AvatarService listener threw');
  }

  async #start(room: Room, peer: Peer, identityId: string, givenSource?: MotionSource | MotionSourceFactory): Promise<AvatarSession> {
    const { identities, config, metrics, motion } = this.#options;
    const log = peer.log.child({ component: 'AvatarService', identityId });
    peer.notify({ type: 'avatarState', data: { state: 'starting', identityId } });
    let source: MotionSource | undefined;
    try {
      const identity = await identities.resolve(this.#requester(room, peer), identityId);
      if (peer.closed || room.closed) throw new Error('peer left before its avatar started');
      // Granted: only now replace the current avatar (a refused switch leaves it running).
      await this.stop(peer);
      source = typeof givenSource === 'function' ? await givenSource(identity)
        : givenSource ?? new MotionStreamSource(motion, room.id, peer.id);
      const session = await AvatarSession.create({
        room,
        peer,
        identity,
        source,
        models: this.models,
        config,
        logger: log,
        bandwidthProbe: consumerBandwidthProbe(room),
      });
      if (peer.closed || this.#closed) {
        await session.close();
        throw new Error('peer left before its avatar started');
      }
      this.#track(room, peer, session, source);
      log.info({ producerId: session.producerId }, 'avatar session started');
      return session;
    } catch (error) {
      source?.close();
      const refusal = avatarStartError(error, identityId);
      metrics.sessionStartFailures.inc({ reason: refusal.code });
      log.warn({ err: error, code: refusal.code }, `avatar refused: ${refusal.message}`);
      peer.notify({ type: 'avatarState', data: { state: 'error', identityId, message: refusal.message } });
      throw refusal;
    }
  }

  #track(room: Room, peer: Peer, session: AvatarSession, source: MotionSource): void {
    const { metrics } = this.#options;
    const labels = { room: room.id, peer: peer.id };
    const identityId = session.identity.identityId;
    this.#sessions.set(peer, session);
    metrics.sessions.inc();
    const onPeerClose = (): void => void this.stop(peer);
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
      const stats = session.stats();
      this.#options.metrics.sample({ room: session.room.id, peer: peer.id }, stats);
      peer.notify({ type: 'avatarStats', data: stats });
      this.#syncListeners(session);
    }
  }

  /**
   * Lip sync (README "Avatar rendering"): tells every other human in the room to delay this
   * driver's voice by the avatar's measured delay (+ avSyncExtraMs), when it moved by ≥ 10 ms
   * (and every 5 s for late joiners); 0 when the avatar stops.
   */
  #syncListeners(session: AvatarSession, stopped = false): void {
    const { avSync, avSyncExtraMs } = this.#options.config;
    if (!avSync) return;
    const measured = session.videoDelayMs();
    if (!stopped && measured === null) return;
    const audioDelayMs = stopped ? 0 : Math.max(0, Math.min(4000, Math.round((measured as number) + avSyncExtraMs)));
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
}
