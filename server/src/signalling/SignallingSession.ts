/**
 * One signalling connection: parses every `request` with the shared zod schema, enforces the
 * per-connection rate limit and size limit, and runs the method against the caller's room and
 * peer. State: not joined, or joined to exactly one room as one peer.
 */
import type { Socket } from 'socket.io';
import type { types as ms } from 'mediasoup';
import {
  signallingMethods,
  signallingRequestSchema,
  type ClientToServerEvents,
  type ServerToClientEvents,
  type SignallingMethod,
  type SignallingRequest,
  type SignallingResults,
} from '@shared/signalling';
import { assertUnreachable } from '@shared/assertUnreachable';
import { z } from 'zod';
import type { Config } from '../config';
import type { Logger } from '../logger';
import type { ServerMetrics } from '../metrics/ServerMetrics';
import type { Peer } from '../rooms/Peer';
import type { Room } from '../rooms/Room';
import type { RoomRegistry } from '../rooms/RoomRegistry';
import type { AddressLimits } from './AddressLimits';
import { respond, type Ack } from './respond';
import {
  AlreadyJoinedError,
  BadRequestError,
  NotJoinedError,
  PayloadTooLargeError,
  RateLimitedError,
  RoomClosedError,
  SignallingError,
} from './SignallingError';
import type { AvatarRequestHandler } from '../avatar/avatarRequests';
import { TokenBucket } from '../util/TokenBucket';

export type SignallingSocket = Socket<ClientToServerEvents, ServerToClientEvents>;

export type SignallingSessionOptions = {
  socket: SignallingSocket;
  /** The client's address key (see AddressLimits) and the server's per-address limits. */
  address: string;
  addressLimits: AddressLimits;
  rooms: RoomRegistry;
  config: Config;
  logger: Logger;
  metrics: ServerMetrics;
  /** Handles the avatar methods; without it they answer UNAVAILABLE. */
  avatar?: AvatarRequestHandler;
};

type Joined = { room: Room; peer: Peer };

export class SignallingSession {
  readonly #socket: SignallingSocket;
  readonly #rooms: RoomRegistry;
  readonly #config: Config;
  readonly #metrics: ServerMetrics;
  readonly #bucket: TokenBucket;
  readonly #joinBucket: TokenBucket;
  readonly #address: string;
  readonly #addressLimits: AddressLimits;
  readonly #avatar: AvatarRequestHandler | undefined;
  #log: Logger;
  #joined: Joined | undefined;
  #joining = false;
  #closed = false;

  constructor(options: SignallingSessionOptions) {
    this.#socket = options.socket;
    this.#rooms = options.rooms;
    this.#config = options.config;
    this.#metrics = options.metrics;
    this.#avatar = options.avatar;
    this.#log = options.logger.child({ socketId: options.socket.id });
    const { requestsPerSecond, requestBurst } = options.config.limits;
    this.#bucket = new TokenBucket({ ratePerSecond: requestsPerSecond, capacity: requestBurst });
    const { joinsPerMinutePerConnection, joinBurstPerConnection } = options.config.limits;
    this.#joinBucket = new TokenBucket({ ratePerSecond: joinsPerMinutePerConnection / 60, capacity: joinBurstPerConnection });
    this.#address = options.address;
    this.#addressLimits = options.addressLimits;
    this.#socket.on('request', (request: unknown, ack: unknown) => this.#onRequest(request, ack));
    this.#socket.once('disconnect', (reason) => {
      this.#log.debug({ reason }, 'socket disconnected');
      this.close();
    });
  }

  get peer(): Peer | undefined {
    return this.#joined?.peer;
  }

  /** Idempotent: leaves the room (closing the peer and everything it owns). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#leave();
  }

  #onRequest(raw: unknown, ack: unknown): void {
    if (typeof ack !== 'function') {
      // Nowhere to send an answer: count it and drop it without running anything.
      this.#metrics.signallingDroppedNoAck.inc();
      this.#log.debug('request without ack dropped');
      return;
    }
    const methodLabel = metricMethod(raw);
    void respond(ack as Ack, methodLabel, () => this.#handle(raw), { log: this.#log, metrics: this.#metrics });
  }

  async #handle(raw: unknown): Promise<unknown> {
    const nowMs = performance.now();
    if (!this.#bucket.tryTake(nowMs)) throw new RateLimitedError(this.#bucket.msUntilNextToken(nowMs));
    const bytes = jsonBytes(raw);
    const limit = this.#config.limits.maxRequestBytes;
    if (bytes > limit) throw new PayloadTooLargeError(bytes, limit);
    const parsed = signallingRequestSchema.safeParse(raw);
    if (!parsed.success) throw new BadRequestError(describeInvalid(raw, parsed.error));
    if (this.#closed) throw new RoomClosedError('(disconnected)');
    return this.#dispatch(parsed.data);
  }

  async #dispatch(request: SignallingRequest): Promise<unknown> {
    switch (request.method) {
      case 'getRouterRtpCapabilities': {
        // Answered without creating the room: nothing is spent on a client until it joins.
        const rtpCapabilities = this.#joined?.room.id === request.data.roomId ? this.#joined.room.rtpCapabilities : await this.#rooms.routerRtpCapabilities();
        return { rtpCapabilities } satisfies SignallingResults['getRouterRtpCapabilities'];
      }
      case 'join':
        return this.#join(request.data);
      case 'createWebRtcTransport': {
        const { room, peer } = this.#require(request.method);
        return room.createWebRtcTransport(peer, request.data);
      }
      case 'connectWebRtcTransport': {
        const { room, peer } = this.#require(request.method);
        await room.connectWebRtcTransport(peer, request.data);
        return {};
      }
      case 'produce': {
        const { room, peer } = this.#require(request.method);
        const producer = await room.produce(peer, request.data);
        return { producerId: producer.id } satisfies SignallingResults['produce'];
      }
      case 'produceData': {
        const { room, peer } = this.#require(request.method);
        const dataProducer = await room.produceData(peer, request.data);
        return { dataProducerId: dataProducer.id } satisfies SignallingResults['produceData'];
      }
      case 'consume': {
        const { room, peer } = this.#require(request.method);
        return room.consume(peer, request.data);
      }
      case 'pauseProducer':
      case 'resumeProducer': {
        const { room, peer } = this.#require(request.method);
        await room.setProducerPaused(peer, request.data.producerId, request.method === 'pauseProducer');
        return {};
      }
      case 'closeProducer': {
        const { room, peer } = this.#require(request.method);
        room.closeProducer(peer, request.data.producerId);
        return {};
      }
      case 'pauseConsumer':
      case 'resumeConsumer': {
        const { room, peer } = this.#require(request.method);
        await room.setConsumerPaused(peer, request.data.consumerId, request.method === 'pauseConsumer');
        return {};
      }
      case 'closeDataProducer': {
        const { room, peer } = this.#require(request.method);
        room.closeDataProducer(peer, request.data.dataProducerId);
        return {};
      }
      case 'leave':
        this.#require(request.method);
        this.#leave();
        return {};
      // avatar rendering: one hook into server/src/avatar
      case 'listIdentities':
      case 'startAvatar':
      case 'stopAvatar': {
        const joined = this.#require(request.method);
        if (!this.#avatar) throw new SignallingError('UNAVAILABLE', 'avatar rendering is not enabled on this server');
        return this.#avatar.handle(joined, request);
      }
      default:
        return assertUnreachable(request);
    }
  }

  async #join(data: Extract<SignallingRequest, { method: 'join' }>['data']): Promise<SignallingResults['join']> {
    if (this.#joined || this.#joining) throw new AlreadyJoinedError();
    const nowMs = performance.now();
    if (!this.#joinBucket.tryTake(nowMs)) throw new RateLimitedError(this.#joinBucket.msUntilNextToken(nowMs));
    this.#joining = true;
    let created: Room | undefined;
    try {
      const room = await this.#roomToJoin(data.roomId, (r) => (created = r));
      if (this.#closed) throw new RoomClosedError(data.roomId);
      const peer = room.join({
        displayName: data.displayName,
        // Shape-checked by zod; mediasoup's canConsume() checks them against each producer.
        rtpCapabilities: data.rtpCapabilities as ms.RtpCapabilities,
        ...(data.sctpCapabilities ? { sctpCapabilities: data.sctpCapabilities as ms.SctpCapabilities } : {}),
        notify: (notification) => this.#socket.emit('notification', notification),
      });
      this.#joined = { room, peer };
      this.#log = this.#log.child({ roomId: room.id, peerId: peer.id });
      // However the peer ends (leave, room closed, worker died), this connection is free again.
      peer.once('close', () => {
        if (this.#joined?.peer === peer) this.#joined = undefined;
      });
      return {
        peerId: peer.id,
        peers: [...room.peers.values()].filter((p) => p !== peer).map((p) => p.info),
        producers: room.producerInfos(peer.id),
      };
    } catch (error) {
      // A room this join created and nobody is in goes now, not after the empty-room timeout.
      if (created && created.humanCount === 0) created.close('empty');
      throw error;
    } finally {
      this.#joining = false;
    }
  }

  /**
   * The open room `roomId`, or a new one when this address may create one (AddressLimits:
   * RATE_LIMITED when it created too many, too fast). `onCreated` gets a room made by this call.
   */
  async #roomToJoin(roomId: string, onCreated: (room: Room) => void): Promise<Room> {
    const existing = this.#rooms.get(roomId);
    if (existing && !existing.closed) return existing;
    const reservation = this.#addressLimits.reserveRoomCreation(this.#address);
    let room: Room;
    try {
      room = await this.#rooms.getOrCreate(roomId);
    } catch (error) {
      reservation.cancel();
      throw error;
    }
    if (reservation.commit(room)) onCreated(room);
    return room;
  }

  #leave(): void {
    const joined = this.#joined;
    this.#joined = undefined;
    joined?.peer.close();
  }

  #require(method: SignallingMethod): Joined {
    if (!this.#joined) throw new NotJoinedError(method);
    return this.#joined;
  }
}

/** A bounded label for metrics: the method if it is a known one, else `invalid`. */
function metricMethod(raw: unknown): string {
  const method = typeof raw === 'object' && raw !== null ? (raw as { method?: unknown }).method : undefined;
  return typeof method === 'string' && (signallingMethods as readonly string[]).includes(method) ? method : 'invalid';
}

function jsonBytes(raw: unknown): number {
  try {
    return Buffer.byteLength(JSON.stringify(raw) ?? '');
  } catch {
    return Number.POSITIVE_INFINITY;
  }
}

/** A short, readable reason: which method was meant and which fields are wrong. */
function describeInvalid(raw: unknown, error: z.ZodError): string {
  const method = metricMethod(raw);
  if (method === 'invalid') {
    return `not a signalling request: expected { method: one of ${signallingMethods.join(', ')}, data: {...} }`;
  }
  // Report the issues of the branch for this method, not of the whole union.
  const branch = signallingRequestSchema.options.find((option) => {
    const literal = option.shape.method;
    return literal.safeParse(method).success;
  });
  const issues = branch ? (branch.safeParse(raw).error?.issues ?? error.issues) : error.issues;
  const details = issues
    .slice(0, 5)
    .map((issue) => `${issue.path.join('.') || '(request)'}: ${issue.message}`)
    .join('; ');
  return `invalid "${method}" request: ${details}`;
}
