/**
 * A track the server itself publishes into a room (an avatar): a `server` peer owning a
 * PlainTransport (127.0.0.1, comedia, RTCP-mux) and one producer. Send RTP to `rtpPort` with
 * the configured payload type and SSRC and every client can consume it.
 */
import type { types as ms } from 'mediasoup';
import type { MediaSource } from '@shared/signalling';
import type { SyntheticTrack } from '@shared/signalling/syntheticTrack';
import type { Peer, PeerProducer, TransportAppData } from './Peer';
import { TypedEmitter } from '../util/TypedEmitter';

export type ServerProducerOptions = {
  displayName: string;
  kind: 'video' | 'audio';
  source: MediaSource;
  codec: {
    mimeType: string;
    payloadType: number;
    clockRate: number;
    channels?: number;
    parameters?: Record<string, string | number>;
    rtcpFeedback?: ms.RtcpFeedback[];
  };
  ssrc: number;
  /** Marks a synthesised track (avatar): put in appData and in every ProducerInfo. */
  synthetic?: SyntheticTrack;
};

export class ServerProducer extends TypedEmitter<{ close: [] }> {
  readonly peer: Peer;
  readonly transport: ms.PlainTransport<TransportAppData>;
  readonly producer: PeerProducer;
  /** UDP port on 127.0.0.1 that takes this track's RTP (and RTCP, muxed). */
  readonly rtpPort: number;
  #closed = false;

  constructor(peer: Peer, transport: ms.PlainTransport<TransportAppData>, producer: PeerProducer, rtpPort: number) {
    super();
    this.peer = peer;
    this.transport = transport;
    this.producer = producer;
    this.rtpPort = rtpPort;
    // The room may close the peer (room closed, worker died): this object closes with it.
    peer.once('close', () => this.close());
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Idempotent: removes the server peer (clients get producerClosed and peerLeft). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.peer.close();
    this.safeEmit('close');
  }
}
