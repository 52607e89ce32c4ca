/**
 * A call: one mediasoup Router on one worker, its peers, and a DirectTransport through which
 * server code reads every message of every peer data channel (binary and text alike).
 *
 * Methods here are the signalling operations minus the wire: the signalling layer parses
 * requests and calls them with the caller's Peer; everything a peer names by id is looked up
 * among that peer's own objects (NOT_FOUND otherwise).
 */
import { randomUUID } from 'node:crypto';
import type { types as ms } from 'mediasoup';
import type {
  DataSource,
  MediaSource,
  PeerInfo,
  ProducerInfo,
  RequestData,
  RoomClosedReason,
  SignallingNotification,
  SignallingResults,
} from '@shared/signalling';
import type { Config } from '../config';
import type { Logger } from '../logger';
import type { ServerMetrics } from '../metrics/ServerMetrics';
import { routerMediaCodecs } from '../media/mediaCodecs';
import {
  BadRequestError,
  NotFoundError,
  RoomClosedError,
  RoomFullError,
  mediasoupRejection,
} from '../signalling/SignallingError';
import { TypedEmitter } from '../util/TypedEmitter';
import { Peer, type TransportAppData, type PeerConsumer, type PeerDataProducer, type PeerProducer, type PeerTransport } from './Peer';
import { ServerProducer, type ServerProducerOptions } from './ServerProducer';

/** Why a room closed: `empty` when its last human left, or a reason clients are told. */
export type RoomCloseReason = 'empty' | RoomClosedReason;

/** One message from a peer data channel, as server code sees it. */
export type RoomDataMessage = {
  peer: Peer;
  dataProducerId: string;
  source: DataSource;
  label: string;
  /** Payload bytes; empty for WebRTC "empty" messages (ppid 56/57). */
  message: Buffer;
  /** SCTP payload protocol id: 51 string, 53 binary, 56 empty string, 57 empty binary. */
  ppid: number;
};

export type RoomEvents = {
  peerjoined: [Peer];
  peerleft: [Peer];
  data: [RoomDataMessage];
  close: [RoomCloseReason];
};

export type RoomOptions = {
  id: string;
  worker: ms.Worker;
  config: Config;
  logger: Logger;
  metrics: ServerMetrics;
};

export type JoinOptions = {
  displayName: string;
  rtpCapabilities: ms.RtpCapabilities;
  sctpCapabilities?: ms.SctpCapabilities;
  notify: (notification: SignallingNotification) => void;
};

export type RoomJson = {
  id: string;
  workerPid: number;
  createdAt: string;
  peers: (PeerInfo & { joinedAt: string })[];
  producers: ProducerInfo[];
  dataProducers: { dataProducerId: string; peerId: string; source: DataSource; label: string }[];
};

const roomClosedMessages: Record<RoomClosedReason, string> = {
  workerDied: 'The media server restarted; rejoin the call.',
  serverShutdown: 'The server is shutting down.',
  closedByServer: 'The call was ended by the server.',
};

export class Room extends TypedEmitter<RoomEvents> {
  readonly id: string;
  readonly worker: ms.Worker;
  readonly router: ms.Router;
  readonly createdAt = new Date();
  readonly #config: Config;
  readonly #metrics: ServerMetrics;
  readonly #log: Logger;
  readonly #dataTransport: ms.DirectTransport;
  readonly #peers = new Map<string, Peer>();
  #emptyTimer: NodeJS.Timeout | undefined;
  #closed = false;

  private constructor(options: RoomOptions, router: ms.Router, dataTransport: ms.DirectTransport, log: Logger) {
    super();
    this.id = options.id;
    this.worker = options.worker;
    this.router = router;
    this.#config = options.config;
    this.#metrics = options.metrics;
    this.#dataTransport = dataTransport;
    this.#log = log;
  }

  static async create(options: RoomOptions): Promise<Room> {
    const log = options.logger.child({ roomId: options.id, workerPid: options.worker.pid });
    const router = await options.worker.createRouter({ mediaCodecs: routerMediaCodecs });
    let dataTransport: ms.DirectTransport;
    try {
      dataTransport = await router.createDirectTransport({
        maxMessageSize: options.config.mediasoup.maxSctpMessageBytes,
      });
    } catch (error) {
      router.close();
      throw error;
    }
    const room = new Room(options, router, dataTransport, log);
    // The worker died or was closed under us: the pool's workerDied handler usually gets here
    // first with the same reason; close() is idempotent.
    router.observer.once('close', () => room.close('workerDied'));
    room.#armEmptyTimer();
    options.metrics.rooms.inc();
    options.metrics.roomsCreated.inc();
    log.info('room created');
    return room;
  }

  get closed(): boolean {
    return this.#closed;
  }

  get peers(): ReadonlyMap<string, Peer> {
    return this.#peers;
  }

  get humanCount(): number {
    let n = 0;
    for (const peer of this.#peers.values()) if (peer.kind === 'human') n += 1;
    return n;
  }

  get rtpCapabilities(): ms.RtpCapabilities {
    return this.router.rtpCapabilities;
  }

  /** Every producer in the room, server peers' included. */
  producerInfos(exceptPeerId?: string): ProducerInfo[] {
    const infos: ProducerInfo[] = [];
    for (const peer of this.#peers.values()) {
      if (peer.id === exceptPeerId) continue;
      for (const producer of peer.producers.values()) infos.push(producerInfo(peer, producer));
    }
    return infos;
  }

  join(options: JoinOptions): Peer {
    this.#assertOpen();
    const max = this.#config.limits.maxPeersPerRoom;
    if (this.humanCount >= max) throw new RoomFullError(this.id, max);
    const peer = new Peer({
      id: randomUUID(),
      displayName: options.displayName,
      kind: 'human',
      rtpCapabilities: options.rtpCapabilities,
      sctpCapabilities: options.sctpCapabilities,
      notify: options.notify,
      logger: this.#log,
    });
    this.#addPeer(peer);
    return peer;
  }

  async createWebRtcTransport(
    peer: Peer,
    data: RequestData<'createWebRtcTransport'>,
  ): Promise<SignallingResults['createWebRtcTransport']> {
    this.#assertMember(peer);
    const { limits, mediasoup: m } = this.#config;
    const release = peer.claim('transports', limits.maxTransportsPerPeer);
    const sctp = data.sctpCapabilities ?? peer.sctpCapabilities;
    let transport: ms.WebRtcTransport<{ peerId: string; direction: 'send' | 'recv' }>;
    try {
      transport = await this.router.createWebRtcTransport({
        listenInfos: (['udp', 'tcp'] as const).map((protocol) => ({
          protocol,
          ip: m.listenIp,
          announcedAddress: m.announcedIp,
          portRange: { min: m.rtcMinPort, max: m.rtcMaxPort },
        })),
        enableUdp: true,
        enableTcp: true,
        preferUdp: true,
        initialAvailableOutgoingBitrate: m.initialAvailableOutgoingBitrate,
        enableSctp: Boolean(sctp),
        ...(sctp ? { numSctpStreams: sctp.numStreams } : {}),
        maxSctpMessageSize: m.maxSctpMessageBytes,
        appData: { peerId: peer.id, direction: data.direction },
      });
    } catch (error) {
      throw mediasoupRejection(error, 'transport');
    } finally {
      release();
    }
    peer.addTransport(transport);
    if (peer.closed) throw new RoomClosedError(this.id);
    peer.log.debug({ transportId: transport.id, direction: data.direction }, 'WebRTC transport created');
    return {
      transportId: transport.id,
      iceParameters: transport.iceParameters,
      iceCandidates: transport.iceCandidates,
      dtlsParameters: transport.dtlsParameters,
      ...(transport.sctpParameters ? { sctpParameters: transport.sctpParameters } : {}),
    };
  }

  async connectWebRtcTransport(peer: Peer, data: RequestData<'connectWebRtcTransport'>): Promise<void> {
    this.#assertMember(peer);
    const transport = peer.transport(data.transportId);
    try {
      await transport.connect({ dtlsParameters: data.dtlsParameters as ms.DtlsParameters });
    } catch (error) {
      throw mediasoupRejection(error, 'DTLS parameters');
    }
    peer.log.debug({ transportId: transport.id }, 'transport connected');
  }

  async produce(peer: Peer, data: RequestData<'produce'>): Promise<PeerProducer> {
    this.#assertMember(peer);
    const transport = this.#transportFor(peer, data.transportId, 'send');
    const release = peer.claim('producers', this.#config.limits.maxProducersPerPeer);
    let producer: PeerProducer;
    try {
      producer = await transport.produce({
        kind: data.kind,
        // Shape-checked by zod; mediasoup checks the semantics and throws on nonsense.
        rtpParameters: data.rtpParameters as ms.RtpParameters,
        appData: { peerId: peer.id, source: data.source },
      });
    } catch (error) {
      throw mediasoupRejection(error, 'producer');
    } finally {
      release();
    }
    this.#publish(peer, producer);
    return producer;
  }

  async consume(peer: Peer, data: RequestData<'consume'>): Promise<SignallingResults['consume']> {
    this.#assertMember(peer);
    const transport = this.#transportFor(peer, data.transportId, 'recv');
    const owner = this.#producerOwner(data.producerId);
    if (!owner || owner.peer === peer) throw new NotFoundError('producer', data.producerId);
    const rtpCapabilities = peer.rtpCapabilities;
    if (!rtpCapabilities || !this.router.canConsume({ producerId: data.producerId, rtpCapabilities })) {
      throw new BadRequestError(`your RTP capabilities cannot receive producer "${data.producerId}"`);
    }
    const release = peer.claim('consumers', this.#config.limits.maxConsumersPerPeer);
    let consumer: PeerConsumer;
    try {
      // Paused until the client has set up its side and calls resumeConsumer (no lost keyframe).
      consumer = await transport.consume({
        producerId: data.producerId,
        rtpCapabilities,
        paused: true,
        appData: { peerId: peer.id, producerPeerId: owner.peer.id, source: owner.producer.appData.source },
      });
    } catch (error) {
      throw mediasoupRejection(error, 'consumer');
    } finally {
      release();
    }
    peer.addConsumer(consumer);
    if (peer.closed) throw new RoomClosedError(this.id);
    consumer.on('producerclose', () => {
      peer.notify({ type: 'consumerClosed', data: { consumerId: consumer.id } });
      consumer.close();
    });
    consumer.on('producerpause', () => peer.notify({ type: 'consumerPaused', data: { consumerId: consumer.id } }));
    consumer.on('producerresume', () => peer.notify({ type: 'consumerResumed', data: { consumerId: consumer.id } }));
    peer.log.debug({ consumerId: consumer.id, producerId: data.producerId }, 'consumer created');
    return {
      consumerId: consumer.id,
      producerId: data.producerId,
      peerId: owner.peer.id,
      kind: consumer.kind,
      rtpParameters: consumer.rtpParameters,
      source: owner.producer.appData.source,
      producerPaused: consumer.producerPaused,
    };
  }

  async produceData(peer: Peer, data: RequestData<'produceData'>): Promise<PeerDataProducer> {
    this.#assertMember(peer);
    const transport = this.#transportFor(peer, data.transportId, 'send');
    const release = peer.claim('dataProducers', this.#config.limits.maxDataProducersPerPeer);
    let dataProducer: PeerDataProducer;
    try {
      dataProducer = await transport.produceData({
        sctpStreamParameters: data.sctpStreamParameters as ms.SctpStreamParameters,
        label: data.label,
        protocol: data.protocol,
        appData: { peerId: peer.id, source: data.source },
      });
    } catch (error) {
      throw mediasoupRejection(error, 'data producer');
    } finally {
      release();
    }
    peer.addDataProducer(dataProducer);
    if (peer.closed) throw new RoomClosedError(this.id);
    try {
      await this.#readDataProducer(peer, dataProducer);
    } catch (error) {
      dataProducer.close();
      throw error;
    }
    peer.log.debug({ dataProducerId: dataProducer.id, source: data.source, label: data.label }, 'data producer created');
    return dataProducer;
  }

  async setProducerPaused(peer: Peer, producerId: string, paused: boolean): Promise<void> {
    this.#assertMember(peer);
    const producer = peer.producer(producerId);
    if (paused) await producer.pause();
    else await producer.resume();
  }

  closeProducer(peer: Peer, producerId: string): void {
    this.#assertMember(peer);
    peer.producer(producerId).close();
  }

  async setConsumerPaused(peer: Peer, consumerId: string, paused: boolean): Promise<void> {
    this.#assertMember(peer);
    const consumer = peer.consumer(consumerId);
    try {
      if (paused) await consumer.pause();
      else await consumer.resume();
    } catch (error) {
      // Its producer closed (an avatar stopped, a peer left) while the request was on its way:
      // the worker has closed the consumer, and tells this side only after it answered the
      // request. Same answer as an unknown id.
      const source = this.#producerOwner(consumer.producerId)?.producer;
      if (consumer.closed || !source || source.closed) throw new NotFoundError('consumer', consumerId);
      throw error;
    }
  }

  closeDataProducer(peer: Peer, dataProducerId: string): void {
    this.#assertMember(peer);
    peer.dataProducer(dataProducerId).close();
  }

  /**
   * Publishes a server-made track: a `server` peer with one producer fed by RTP sent to a
   * PlainTransport on 127.0.0.1 (comedia: the first packet's source becomes the remote).
   * Clients get peerJoined + newProducer and consume it like any other track.
   */
  async addServerProducer(options: ServerProducerOptions): Promise<ServerProducer> {
    this.#assertOpen();
    const peer = new Peer({ id: randomUUID(), displayName: options.displayName, kind: 'server', logger: this.#log });
    this.#addPeer(peer);
    try {
      const transport = await this.router.createPlainTransport<TransportAppData>({
        listenInfo: { protocol: 'udp', ip: '127.0.0.1' },
        rtcpMux: true,
        comedia: true,
        appData: { peerId: peer.id, direction: 'send' },
      });
      peer.addTransport(transport);
      if (peer.closed) throw new RoomClosedError(this.id);
      const { codec } = options;
      const producer: PeerProducer = await transport.produce({
        kind: options.kind,
        rtpParameters: {
          codecs: [
            {
              mimeType: codec.mimeType,
              payloadType: codec.payloadType,
              clockRate: codec.clockRate,
              ...(codec.channels ? { channels: codec.channels } : {}),
              parameters: codec.parameters ?? {},
              rtcpFeedback: codec.rtcpFeedback ?? [],
            },
          ],
          encodings: [{ ssrc: options.ssrc }],
        },
        appData: { peerId: peer.id, source: options.source, ...(options.synthetic ? { synthetic: options.synthetic } : {}) },
      });
      this.#publish(peer, producer);
      const rtpPort = transport.tuple.localPort;
      peer.log.info({ producerId: producer.id, rtpPort, ssrc: options.ssrc }, 'server producer added');
      return new ServerProducer(peer, transport, producer, rtpPort);
    } catch (error) {
      peer.close();
      throw error;
    }
  }

  toJSON(): RoomJson {
    const peers = [...this.#peers.values()];
    return {
      id: this.id,
      workerPid: this.worker.pid,
      createdAt: this.createdAt.toISOString(),
      peers: peers.map((p) => ({ ...p.info, joinedAt: p.joinedAt.toISOString() })),
      producers: this.producerInfos(),
      dataProducers: peers.flatMap((p) =>
        [...p.dataProducers.values()].map((d) => ({
          dataProducerId: d.id,
          peerId: p.id,
          source: d.appData.source,
          label: d.label,
        })),
      ),
    };
  }

  /** Idempotent. Tells human peers why (unless it closed for being empty), then tears down. */
  close(reason: RoomCloseReason = 'closedByServer'): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#emptyTimer);
    if (reason !== 'empty') {
      for (const peer of this.#peers.values()) {
        peer.notify({ type: 'roomClosed', data: { reason, message: roomClosedMessages[reason] } });
      }
    }
    for (const peer of this.#peers.values()) peer.close();
    this.#peers.clear();
    this.router.close();
    this.#metrics.rooms.dec();
    this.#metrics.roomsClosed.inc({ reason });
    this.#log.info({ reason }, 'room closed');
    this.safeEmit('close', reason);
  }

  #addPeer(peer: Peer): void {
    this.#peers.set(peer.id, peer);
    this.#metrics.peers.inc({ kind: peer.kind });
    if (peer.kind === 'human') clearTimeout(this.#emptyTimer);
    peer.once('close', () => this.#onPeerClosed(peer));
    this.#broadcast({ type: 'peerJoined', data: { peer: peer.info } }, peer.id);
    peer.log.info({ displayName: peer.displayName, kind: peer.kind }, 'peer joined');
    this.safeEmit('peerjoined', peer);
  }

  #onPeerClosed(peer: Peer): void {
    this.#metrics.peers.dec({ kind: peer.kind });
    if (this.#closed) return;
    this.#peers.delete(peer.id);
    this.#broadcast({ type: 'peerLeft', data: { peerId: peer.id } });
    peer.log.info('peer left');
    this.safeEmit('peerleft', peer);
    if (peer.kind === 'human' && this.humanCount === 0) this.close('empty');
  }

  /** Tracks a new producer and tells the other humans about it, and about its end. */
  #publish(peer: Peer, producer: PeerProducer): void {
    peer.addProducer(producer);
    if (peer.closed) throw new RoomClosedError(this.id);
    producer.observer.once('close', () => {
      if (!this.#closed) this.#broadcast({ type: 'producerClosed', data: { producerId: producer.id } }, peer.id);
    });
    this.#broadcast({ type: 'newProducer', data: producerInfo(peer, producer) }, peer.id);
    peer.log.debug({ producerId: producer.id, kind: producer.kind, source: producer.appData.source }, 'producer created');
  }

  /** Server code reads each peer data channel through a DataConsumer on the DirectTransport. */
  async #readDataProducer(peer: Peer, dataProducer: PeerDataProducer): Promise<void> {
    const dataConsumer = await this.#dataTransport.consumeData({ dataProducerId: dataProducer.id });
    const source = dataProducer.appData.source;
    const label = dataProducer.label;
    dataConsumer.on('message', (payload, ppid) => {
      // RFC 8831: "empty" messages travel as one placeholder byte that is not data.
      const message = ppid === 56 || ppid === 57 ? Buffer.alloc(0) : payload;
      this.#metrics.dataMessages.inc({ source });
      this.#metrics.dataBytes.inc({ source }, message.length);
      this.safeEmit('data', { peer, dataProducerId: dataProducer.id, source, label, message, ppid });
    });
  }

  #broadcast(notification: SignallingNotification, exceptPeerId?: string): void {
    for (const peer of this.#peers.values()) {
      if (peer.id !== exceptPeerId) peer.notify(notification);
    }
  }

  #transportFor(peer: Peer, transportId: string, direction: 'send' | 'recv'): PeerTransport {
    const transport = peer.transport(transportId);
    if (transport.appData.direction !== direction) {
      throw new BadRequestError(`transport "${transportId}" is a ${transport.appData.direction} transport, not ${direction}`);
    }
    return transport;
  }

  #producerOwner(producerId: string): { peer: Peer; producer: PeerProducer } | undefined {
    for (const peer of this.#peers.values()) {
      const producer = peer.producers.get(producerId);
      if (producer) return { peer, producer };
    }
    return undefined;
  }

  #assertOpen(): void {
    if (this.#closed) throw new RoomClosedError(this.id);
  }

  #assertMember(peer: Peer): void {
    this.#assertOpen();
    if (peer.closed || this.#peers.get(peer.id) !== peer) throw new RoomClosedError(this.id);
  }

  #armEmptyTimer(): void {
    const ms = this.#config.limits.emptyRoomTimeoutMs;
    this.#emptyTimer = setTimeout(() => {
      if (this.humanCount === 0) this.close('empty');
    }, ms);
    this.#emptyTimer.unref();
  }

  protected override onListenerError(event: string, error: unknown): void {
    this.#log.error({ event, err: error }, 'Room listener threw');
  }
}

function producerInfo(peer: Peer, producer: PeerProducer): ProducerInfo {
  return {
    producerId: producer.id,
    peerId: peer.id,
    kind: producer.kind,
    source: producer.appData.source as MediaSource,
    paused: producer.paused,
    ...(producer.appData.synthetic ? { synthetic: producer.appData.synthetic } : {}),
  };
}
