/**
 * Runs a MotionStream for every avatar-mode peer of every room of one server.
 *
 * It listens to the RoomRegistry: for each room, the `data` event (every peer data-channel
 * message, read by the room's DirectTransport DataConsumers). The first message on a peer's
 * 'motion' DataProducer opens that peer's stream; a peer has at most one (a new motion
 * producer replaces the old stream). The stream closes with its DataProducer, its peer, its
 * room, or this service. Every `statsIntervalMs` it refreshes the Prometheus gauges and pushes
 * a `motionStats` notification to the peer's page.
 *
 * Consumers (the avatar renderer) find a peer's stream with `stream(roomId, peerId)` or the
 * `streamopened` event.
 */
import type { Logger } from '../logger';
import type { Room, RoomDataMessage } from '../rooms/Room';
import type { RoomRegistry } from '../rooms/RoomRegistry';
import type { Peer } from '../rooms/Peer';
import { TypedEmitter } from '../util/TypedEmitter';
import type { MotionMetrics } from './MotionMetrics';
import { MotionStream, type MotionStreamStats } from './MotionStream';
import type { MotionStreamConfig } from './motionStreamConfig';
import type { DecodedMotionFrame, MotionPacketDecodeFn } from './motionTypes';

/** The codec as the service needs it: a decoder per stream (it may keep state) and limits. */
export interface MotionCodecBinding<F extends DecodedMotionFrame> {
  createDecoder(): MotionPacketDecodeFn<F>;
  maxPacketBytes: number;
  seqModulus: number;
}

export interface MotionServiceOptions<F extends DecodedMotionFrame> {
  rooms: RoomRegistry;
  codec: MotionCodecBinding<F>;
  config: MotionStreamConfig;
  metrics: MotionMetrics;
  logger: Logger;
}

export type MotionServiceEvents<F extends DecodedMotionFrame> = {
  streamopened: [MotionStream<F>, { room: Room; peer: Peer }];
};

type Entry<F extends DecodedMotionFrame> = { stream: MotionStream<F>; room: Room; peer: Peer };

export class MotionService<F extends DecodedMotionFrame = DecodedMotionFrame> extends TypedEmitter<
  MotionServiceEvents<F>
> {
  readonly #options: MotionServiceOptions<F>;
  readonly #log: Logger;
  /** Keyed by `${roomId}/${peerId}`. */
  readonly #streams = new Map<string, Entry<F>>();
  readonly #roomCleanups = new Map<Room, () => void>();
  readonly #timer: NodeJS.Timeout;
  readonly #onRoomCreated = (room: Room): void => this.#watchRoom(room);
  #closed = false;

  constructor(options: MotionServiceOptions<F>) {
    super();
    this.#options = options;
    this.#log = options.logger.child({ component: 'MotionService' });
    options.rooms.on('roomcreated', this.#onRoomCreated);
    for (const room of options.rooms.rooms.values()) this.#watchRoom(room);
    this.#timer = setInterval(() => this.#tick(), options.config.statsIntervalMs);
    this.#timer.unref();
  }

  /** The motion stream of a peer, if it is in avatar mode. */
  stream(roomId: string, peerId: string): MotionStream<F> | undefined {
    return this.#streams.get(`${roomId}/${peerId}`)?.stream;
  }

  get streams(): ReadonlyArray<MotionStream<F>> {
    return [...this.#streams.values()].map((e) => e.stream);
  }

  /** Idempotent: closes every stream and stops listening. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    this.#options.rooms.off('roomcreated', this.#onRoomCreated);
    for (const cleanup of [...this.#roomCleanups.values()]) cleanup();
    for (const { stream } of [...this.#streams.values()]) stream.close();
    this.removeAllListeners();
  }

  protected override onListenerError(event: string, error: unknown): void {
    this.#log.error({ event, err: error }, 'MotionService listener threw');
  }

  #watchRoom(room: Room): void {
    if (this.#closed || room.closed || this.#roomCleanups.has(room)) return;
    const onData = (message: RoomDataMessage): void => {
      if (message.source === 'motion') this.#onMotionMessage(room, message);
    };
    const onPeerLeft = (peer: Peer): void => this.#streams.get(`${room.id}/${peer.id}`)?.stream.close();
    const cleanup = (): void => {
      room.off('data', onData);
      room.off('peerleft', onPeerLeft);
      room.off('close', cleanup);
      this.#roomCleanups.delete(room);
      for (const entry of [...this.#streams.values()]) if (entry.room === room) entry.stream.close();
    };
    room.on('data', onData);
    room.on('peerleft', onPeerLeft);
    room.on('close', cleanup);
    this.#roomCleanups.set(room, cleanup);
  }

  #onMotionMessage(room: Room, { peer, dataProducerId, message, ppid }: RoomDataMessage): void {
    const key = `${room.id}/${peer.id}`;
    let entry = this.#streams.get(key);
    if (entry?.stream.dataProducerId !== dataProducerId) {
      const opened = this.#open(room, peer, dataProducerId);
      if (!opened) return;
      entry = opened;
    }
    entry.stream.push(message, ppid);
  }

  #open(room: Room, peer: Peer, dataProducerId: string): Entry<F> | undefined {
    const dataProducer = peer.dataProducers.get(dataProducerId);
    // A message racing its producer's close, or a peer already gone: nothing to open.
    if (!dataProducer || dataProducer.closed || peer.closed) return undefined;
    const key = `${room.id}/${peer.id}`;
    this.#streams.get(key)?.stream.close();
    const { codec, config, metrics } = this.#options;
    const labels = { room: room.id, peer: peer.id };
    const stream = new MotionStream<F>({
      peerId: peer.id,
      dataProducerId,
      decode: codec.createDecoder(),
      maxPacketBytes: codec.maxPacketBytes,
      seqModulus: codec.seqModulus,
      config,
      logger: peer.log.child({ component: 'MotionStream', dataProducerId }),
    });
    const entry: Entry<F> = { stream, room, peer };
    this.#streams.set(key, entry);
    metrics.streams.inc();
    stream.on('packet', (bytes) => {
      metrics.received.inc(labels);
      metrics.receivedBytes.inc(labels, bytes);
    });
    stream.on('drop', (reason) => metrics.dropped.inc({ ...labels, reason }));
    stream.on('frame', () => metrics.played.inc(labels));
    const onProducerClose = (): void => stream.close();
    dataProducer.observer.once('close', onProducerClose);
    stream.once('close', () => {
      dataProducer.observer.off('close', onProducerClose);
      if (this.#streams.get(key) === entry) this.#streams.delete(key);
      const finalStats = stream.stats();
      metrics.remove(labels, finalStats);
      metrics.streams.dec();
      peer.log.info({ stats: summary(finalStats) }, 'motion stream closed');
    });
    peer.log.info({ dataProducerId }, 'motion stream opened');
    this.safeEmit('streamopened', stream, { room, peer });
    return entry;
  }

  #tick(): void {
    for (const { stream, room, peer } of this.#streams.values()) {
      const stats = stream.stats();
      this.#options.metrics.sample({ room: room.id, peer: peer.id }, stats);
      const { peerId: _peerId, clockResyncs: _resyncs, ...data } = stats;
      peer.notify({ type: 'motionStats', data });
    }
  }
}

function summary(stats: MotionStreamStats) {
  return {
    receivedPackets: stats.receivedPackets,
    playedFrames: stats.playedFrames,
    lostFrames: stats.lostFrames,
    dropped: stats.dropped,
  };
}
