/**
 * One peer's membership of one room: the mediasoup-client Device, a send and a receive
 * WebRtcTransport, the local producers, a consumer for every remote track, and data channels
 * to the server. It turns server notifications into typed events for the UI.
 *
 * Life: `CallSession.join()` → events while in the call → `leave()` (asks the server to close
 * the peer) or `close()`; a room closed by the server or a dropped socket ends it too, with
 * an `ended` event saying why. `close()` is idempotent and closes everything it owns,
 * including the signalling socket.
 */
import { Device } from 'mediasoup-client';
import type {
  DataProducer,
  Producer,
  RtpCapabilities,
  RtpParameters,
  SctpCapabilities,
  Transport,
  TransportOptions,
} from 'mediasoup-client/types';
import { assertUnreachable } from '@shared/assertUnreachable';
import type { DataSource, MediaSource, ProducerInfo, SignallingNotification } from '@shared/signalling';
import type { MotionStatsPayload } from '@shared/signalling/motionStats';
import type { AvatarResults, AvatarStateData, AvatarStats } from '@shared/avatar/avatarProtocol';
import { TypedEmitter } from '../util/TypedEmitter';
import { SignallingError } from './SignallingError';
import type {
  InboundTrackStats,
  OutboundTrackStats,
  Participant,
  RemoteTrack,
  SessionEnd,
  TransportDirection,
  TransportState,
} from './callTypes';
import { readInboundRtp, readOutboundRtp } from './rtcStats';
import type { RequestInput, SignallingClient } from './SignallingClient';

export type CallSessionEvents = {
  participantjoined: [Participant];
  participantleft: [Participant];
  trackadded: [RemoteTrack];
  trackupdated: [RemoteTrack];
  trackremoved: [RemoteTrack];
  transportstate: [TransportDirection, TransportState];
  /** Avatar mode: the server's stats of this peer's motion uplink (client/src/avatar/ shows them). */
  motionstats: [MotionStatsPayload];
  avatarstate: [AvatarStateData];
  avatarstats: [AvatarStats];
  /** The session is over (left, room closed, socket lost, failed); emitted once, before `close`. */
  ended: [SessionEnd];
  close: [];
};

export interface CallSessionJoinOptions {
  signalling: SignallingClient;
  roomId: string;
  displayName: string;
}

/** Options for a client→server data channel (an SCTP stream on the send transport). */
export interface DataChannelOptions {
  /** Default true. Motion packets use `ordered: false, maxRetransmits: 0`. */
  ordered?: boolean;
  maxRetransmits?: number;
  maxPacketLifeTime?: number;
  protocol?: string;
  /** How long to wait for the channel to open; default 10 s. */
  openTimeoutMs?: number;
}

type PublishableSource = Exclude<MediaSource, 'avatar'>;

export class CallSession extends TypedEmitter<CallSessionEvents> {
  readonly roomId: string;
  readonly displayName: string;
  readonly #signalling: SignallingClient;
  readonly #device: Device;
  #peerId = '';
  #sendTransport: Transport | undefined;
  #recvTransport: Transport | undefined;
  readonly #transportStates: Record<TransportDirection, TransportState> = { send: 'new', recv: 'new' };
  readonly #participants = new Map<string, Participant>();
  readonly #tracks = new Map<string, RemoteTrack>();
  /** Lip sync: how much later to play each peer's voice (their avatar video trails it). */
  readonly #audioDelayMs = new Map<string, number>();
  readonly #producers = new Map<PublishableSource, Producer>();
  readonly #dataProducers = new Set<DataProducer>();
  /** Producers announced before the receive transport existed, consumed once it does. */
  #pendingProducers: ProducerInfo[] | undefined = [];
  /** Consumers the server closed while our `consume` was still in flight. */
  readonly #closedConsumerIds = new Set<string>();
  #ended = false;
  #closed = false;

  static async join(options: CallSessionJoinOptions): Promise<CallSession> {
    const { signalling, roomId, displayName } = options;
    const { rtpCapabilities } = await signalling.request('getRouterRtpCapabilities', { roomId });
    const device = await Device.factory();
    await device.load({ routerRtpCapabilities: rtpCapabilities as RtpCapabilities });
    const session = new CallSession(signalling, device, roomId, displayName);
    try {
      await session.#start();
    } catch (error) {
      session.close();
      throw error;
    }
    return session;
  }

  private constructor(signalling: SignallingClient, device: Device, roomId: string, displayName: string) {
    super();
    this.#signalling = signalling;
    this.#device = device;
    this.roomId = roomId;
    this.displayName = displayName;
    // Listen before `join` so that nothing the server pushes right after it is missed.
    signalling.on('notification', (notification) => this.#onNotification(notification));
    signalling.on('disconnected', (reason) => this.#end({ type: 'disconnected', reason }));
  }

  get peerId(): string {
    return this.#peerId;
  }

  get closed(): boolean {
    return this.#closed;
  }

  get participants(): ReadonlyMap<string, Participant> {
    return this.#participants;
  }

  /** Remote tracks by consumer id. */
  get tracks(): ReadonlyMap<string, RemoteTrack> {
    return this.#tracks;
  }

  transportState(direction: TransportDirection): TransportState {
    return this.#transportStates[direction];
  }

  producer(source: PublishableSource): Producer | undefined {
    return this.#producers.get(source);
  }

  /** Sends a local track as `source` (replacing the track if that source is already published). */
  async publish(track: MediaStreamTrack, source: PublishableSource): Promise<Producer> {
    const transport = this.#requireSendTransport();
    const existing = this.#producers.get(source);
    if (existing && !existing.closed) {
      await existing.replaceTrack({ track });
      return existing;
    }
    const producer = await transport.produce({
      track,
      stopTracks: false, // the page owns its local media and stops it on leave
      appData: { source },
      ...(source === 'camera' ? { codecOptions: { videoGoogleStartBitrate: 1000 } } : {}),
    });
    this.#producers.set(source, producer);
    producer.observer.once('close', () => {
      if (this.#producers.get(source) === producer) this.#producers.delete(source);
    });
    return producer;
  }

  /** Stops sending `source`: closes the producer here and on the server. */
  async unpublish(source: PublishableSource): Promise<void> {
    const producer = this.#producers.get(source);
    if (!producer) return;
    this.#producers.delete(source);
    producer.close();
    if (!this.#closed) await this.#signalling.request('closeProducer', { producerId: producer.id });
  }

  async setPaused(source: PublishableSource, paused: boolean): Promise<void> {
    const producer = this.#producers.get(source);
    if (!producer) return;
    if (paused) {
      producer.pause();
      await this.#signalling.request('pauseProducer', { producerId: producer.id });
    } else {
      producer.resume();
      await this.#signalling.request('resumeProducer', { producerId: producer.id });
    }
  }

  /**
   * Opens a data channel to the server (a DataProducer on the send transport) and resolves
   * once it is open. The server reads every message on it, binary or text.
   */
  async createDataChannel(source: DataSource, label: string, options: DataChannelOptions = {}): Promise<DataProducer> {
    const transport = this.#requireSendTransport();
    const reliability =
      options.maxRetransmits !== undefined
        ? { maxRetransmits: options.maxRetransmits }
        : options.maxPacketLifeTime !== undefined
          ? { maxPacketLifeTime: options.maxPacketLifeTime }
          : {};
    const dataProducer = await transport.produceData({
      ordered: options.ordered ?? true,
      ...reliability,
      label,
      protocol: options.protocol ?? '',
      appData: { source },
    });
    this.#dataProducers.add(dataProducer);
    dataProducer.observer.once('close', () => this.#dataProducers.delete(dataProducer));
    if (dataProducer.readyState !== 'open') {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`data channel "${label}" did not open`)), options.openTimeoutMs ?? 10_000);
        dataProducer.once('open', () => {
          clearTimeout(timer);
          resolve();
        });
        dataProducer.once('error', (error) => {
          clearTimeout(timer);
          reject(error);
        });
      }).catch((error: unknown) => {
        dataProducer.close();
        throw error;
      });
    }
    return dataProducer;
  }

  /** Closes a data channel here and on the server. */
  async closeDataChannel(dataProducer: DataProducer): Promise<void> {
    const wasOpen = !dataProducer.closed;
    dataProducer.close();
    if (wasOpen && !this.#closed) await this.#signalling.request('closeDataProducer', { dataProducerId: dataProducer.id });
  }

  /** Receive figures for every remote track. */
  async inboundStats(): Promise<InboundTrackStats[]> {
    return Promise.all(
      [...this.#tracks.values()].map(async (remote) => ({
        consumerId: remote.consumerId,
        peerId: remote.peerId,
        displayName: this.#participants.get(remote.peerId)?.displayName ?? '',
        kind: remote.kind,
        source: remote.source,
        paused: remote.paused,
        drivenByPeerId: remote.synthetic?.drivenByPeerId ?? null,
        ...readInboundRtp(await remote.consumer.getStats()),
      })),
    );
  }

  /** Identities this peer may drive as an avatar (the picker's list). */
  async listIdentities(): Promise<AvatarResults['listIdentities']['identities']> {
    return (await this.#signalling.request('listIdentities', {})).identities;
  }

  /** Starts server-side avatar rendering with `identityId`, driven by the camera motion uplink or (`'audio'`) the microphone; rejects with the server's refusal. */
  /** `mouth: 'voice'` with the camera driver: the mouth from the microphone, the rest from the camera. */
  async startAvatar(identityId: string, driver?: 'camera' | 'audio', mouth?: 'camera' | 'voice'): Promise<AvatarResults['startAvatar']> {
    return this.#signalling.request('startAvatar', { identityId, ...(driver ? { driver } : {}), ...(mouth ? { mouth } : {}) });
  }

  async stopAvatar(): Promise<void> {
    await this.#signalling.request('stopAvatar', {});
  }

  /** Send figures for every local track. */
  async outboundStats(): Promise<OutboundTrackStats[]> {
    return Promise.all(
      [...this.#producers.entries()].map(async ([source, producer]) => ({
        producerId: producer.id,
        kind: producer.kind,
        source,
        ...readOutboundRtp(await producer.getStats()),
      })),
    );
  }

  /** Asks the server to remove this peer, then closes. Never throws. */
  async leave(): Promise<void> {
    if (this.#closed) return;
    try {
      await this.#signalling.request('leave', {});
    } catch (error) {
      // The socket closing below makes the server drop the peer anyway.
      console.warn('leave request failed', error);
    }
    this.#end({ type: 'left' });
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    // Closing the transports closes their producers, consumers and data producers.
    this.#sendTransport?.close();
    this.#recvTransport?.close();
    this.#producers.clear();
    this.#dataProducers.clear();
    this.#tracks.clear();
    this.#participants.clear();
    this.#signalling.close();
    this.emit('close');
    this.removeAllListeners();
  }

  async #start(): Promise<void> {
    const joined = await this.#signalling.request('join', {
      roomId: this.roomId,
      displayName: this.displayName,
      rtpCapabilities: this.#device.rtpCapabilities as RequestInput<'join'>['rtpCapabilities'],
      sctpCapabilities: this.#device.sctpCapabilities as RequestInput<'join'>['sctpCapabilities'],
      // A join token from the invitation link (?token=…): room, name and the identities it grants.
      ...(joinTokenFromUrl() ? { token: joinTokenFromUrl() } : {}),
    });
    this.#peerId = joined.peerId;
    for (const peer of joined.peers) this.#addParticipant(peer);
    this.#sendTransport = await this.#createTransport('send');
    this.#recvTransport = await this.#createTransport('recv');
    const pending = [...joined.producers, ...(this.#pendingProducers ?? [])];
    this.#pendingProducers = undefined;
    const seen = new Set<string>();
    for (const producer of pending) {
      if (seen.has(producer.producerId)) continue;
      seen.add(producer.producerId);
      this.#consume(producer);
    }
  }

  async #createTransport(direction: TransportDirection): Promise<Transport> {
    const sctpCapabilities: SctpCapabilities | undefined = direction === 'send' ? this.#device.sctpCapabilities : undefined;
    const info = await this.#signalling.request('createWebRtcTransport', {
      direction,
      ...(sctpCapabilities ? { sctpCapabilities: sctpCapabilities as RequestInput<'createWebRtcTransport'>['sctpCapabilities'] } : {}),
    });
    const options = {
      id: info.transportId,
      iceParameters: info.iceParameters,
      iceCandidates: info.iceCandidates,
      dtlsParameters: info.dtlsParameters,
      sctpParameters: info.sctpParameters,
    } as TransportOptions;
    const transport = direction === 'send' ? this.#device.createSendTransport(options) : this.#device.createRecvTransport(options);

    transport.on('connect', ({ dtlsParameters }, callback, errback) => {
      this.#signalling
        .request('connectWebRtcTransport', {
          transportId: transport.id,
          dtlsParameters: dtlsParameters as RequestInput<'connectWebRtcTransport'>['dtlsParameters'],
        })
        .then(() => callback(), errback);
    });
    transport.on('connectionstatechange', (state) => {
      this.#transportStates[direction] = state;
      this.emit('transportstate', direction, state);
      // 'disconnected' may heal by itself; 'failed' will not (the server offers no ICE
      // restart), so end the call and let the user rejoin.
      if (state === 'failed') this.#end({ type: 'failed', message: `the ${direction === 'send' ? 'sending' : 'receiving'} media connection failed` });
    });
    if (direction === 'send') {
      transport.on('produce', ({ kind, rtpParameters, appData }, callback, errback) => {
        this.#signalling
          .request('produce', {
            transportId: transport.id,
            kind,
            rtpParameters: rtpParameters as RequestInput<'produce'>['rtpParameters'],
            source: appData['source'] as MediaSource,
          })
          .then(({ producerId }) => callback({ id: producerId }), errback);
      });
      transport.on('producedata', ({ sctpStreamParameters, label, protocol, appData }, callback, errback) => {
        this.#signalling
          .request('produceData', {
            transportId: transport.id,
            sctpStreamParameters: sctpStreamParameters as RequestInput<'produceData'>['sctpStreamParameters'],
            label: label ?? '',
            protocol: protocol ?? '',
            source: appData['source'] as DataSource,
          })
          .then(({ dataProducerId }) => callback({ id: dataProducerId }), errback);
      });
    }
    return transport;
  }

  #requireSendTransport(): Transport {
    if (this.#closed || !this.#sendTransport) throw new Error('the call session is not active');
    return this.#sendTransport;
  }

  #onNotification(notification: SignallingNotification): void {
    if (this.#closed) return;
    switch (notification.type) {
      case 'peerJoined':
        this.#addParticipant(notification.data.peer);
        break;
      case 'peerLeft': {
        const participant = this.#participants.get(notification.data.peerId);
        if (!participant) break;
        for (const remote of [...this.#tracks.values()]) {
          if (remote.peerId === participant.id) this.#removeTrack(remote.consumerId);
        }
        this.#participants.delete(participant.id);
        this.emit('participantleft', participant);
        break;
      }
      case 'newProducer':
        if (this.#pendingProducers) this.#pendingProducers.push(notification.data);
        else this.#consume(notification.data);
        break;
      case 'producerClosed':
        for (const remote of [...this.#tracks.values()]) {
          if (remote.producerId === notification.data.producerId) this.#removeTrack(remote.consumerId);
        }
        break;
      case 'consumerClosed':
        if (this.#tracks.has(notification.data.consumerId)) this.#removeTrack(notification.data.consumerId);
        else this.#rememberClosedConsumer(notification.data.consumerId);
        break;
      case 'consumerPaused':
      case 'consumerResumed': {
        const remote = this.#tracks.get(notification.data.consumerId);
        if (!remote) break;
        remote.paused = notification.type === 'consumerPaused';
        if (remote.paused) remote.consumer.pause();
        else remote.consumer.resume();
        this.emit('trackupdated', remote);
        break;
      }
      case 'roomClosed':
        this.#end({ type: 'roomClosed', reason: notification.data.reason, message: notification.data.message });
        break;
      case 'motionStats':
        this.emit('motionstats', notification.data);
        break;
      case 'avatarState':
        this.emit('avatarstate', notification.data);
        break;
      case 'avatarStats':
        this.emit('avatarstats', notification.data);
        break;
      case 'avatarSync':
        this.#audioDelayMs.set(notification.data.peerId, notification.data.audioDelayMs);
        for (const remote of this.#tracks.values()) {
          if (remote.peerId === notification.data.peerId && remote.kind === 'audio') applyAudioDelay(remote, notification.data.audioDelayMs);
        }
        break;
      default:
        assertUnreachable(notification);
    }
  }

  #addParticipant(peer: Participant): void {
    if (peer.id === this.#peerId || this.#participants.has(peer.id)) return;
    this.#participants.set(peer.id, peer);
    this.emit('participantjoined', peer);
  }

  /** Consumes a remote producer; failures are logged (one bad track must not end the call). */
  #consume(info: ProducerInfo): void {
    if (info.peerId === this.#peerId) return;
    void this.#consumeAsync(info).catch((error: unknown) => {
      if (this.#closed) return;
      // The producer closed between its announcement and our consume (e.g. its peer reloaded or
      // stopped its avatar): nothing was lost, its producerClosed follows.
      if (error instanceof SignallingError && error.code === 'NOT_FOUND') console.debug(`producer ${info.producerId} closed before it was consumed`);
      else console.error(`cannot consume producer ${info.producerId}`, error);
    });
  }

  async #consumeAsync(info: ProducerInfo): Promise<void> {
    const transport = this.#recvTransport;
    if (!transport || this.#closed) return;
    const result = await this.#signalling.request('consume', { transportId: transport.id, producerId: info.producerId });
    const consumer = await transport.consume({
      id: result.consumerId,
      producerId: result.producerId,
      kind: result.kind,
      rtpParameters: result.rtpParameters as RtpParameters,
    });
    if (this.#closed || this.#closedConsumerIds.delete(consumer.id)) {
      consumer.close();
      return;
    }
    const remote: RemoteTrack = {
      consumerId: consumer.id,
      producerId: result.producerId,
      peerId: result.peerId,
      kind: result.kind,
      source: result.source,
      ...(info.synthetic ? { synthetic: info.synthetic } : {}),
      track: consumer.track,
      consumer,
      paused: result.producerPaused,
    };
    this.#tracks.set(consumer.id, remote);
    const audioDelayMs = this.#audioDelayMs.get(remote.peerId);
    if (remote.kind === 'audio' && audioDelayMs !== undefined) applyAudioDelay(remote, audioDelayMs);
    consumer.on('transportclose', () => this.#tracks.delete(consumer.id));
    this.emit('trackadded', remote);
    // The server creates consumers paused (so no keyframe is lost before we are ready).
    await this.#signalling.request('resumeConsumer', { consumerId: consumer.id });
  }

  #removeTrack(consumerId: string): void {
    const remote = this.#tracks.get(consumerId);
    if (!remote) return;
    this.#tracks.delete(consumerId);
    remote.consumer.close();
    this.emit('trackremoved', remote);
  }

  #rememberClosedConsumer(consumerId: string): void {
    this.#closedConsumerIds.add(consumerId);
    // Bounded: ids of consumers that never materialise must not pile up.
    if (this.#closedConsumerIds.size > 256) {
      const oldest = this.#closedConsumerIds.values().next().value;
      if (oldest !== undefined) this.#closedConsumerIds.delete(oldest);
    }
  }

  #end(end: SessionEnd): void {
    if (this.#ended) return;
    this.#ended = true;
    this.emit('ended', end);
    this.close();
  }
}

/**
 * Delays a remote voice to meet its avatar video: the receiver's jitter buffer target (ms;
 * Chromium honours up to 4 s; browsers without it play the voice early).
 */
function applyAudioDelay(remote: RemoteTrack, delayMs: number): void {
  const receiver = remote.consumer.rtpReceiver as (RTCRtpReceiver & { jitterBufferTarget?: number | null }) | undefined;
  if (!receiver || !('jitterBufferTarget' in receiver)) return;
  try {
    receiver.jitterBufferTarget = delayMs > 0 ? delayMs : null;
  } catch (error) {
    console.warn('cannot set the audio jitter buffer target', error);
  }
}

function joinTokenFromUrl(): string | undefined {
  if (typeof location === 'undefined') return undefined;
  return new URLSearchParams(location.search).get('token') ?? undefined;
}
