/**
 * The server's ear on one participant: consumes their Opus audio producer through a
 * DirectTransport on the room's router (RTP handed to Node as Buffers, no sockets), and turns it
 * into 16 kHz PCM with RTP timing (RtpAudioReceiver). Pause/resume of the producer (mute) just
 * stops the packets; when they come back the receiver plays the first second of the stretch as
 * silence and jumps its clock over the rest.
 */
import type { types as ms } from 'mediasoup';
import { performance } from 'node:perf_hooks';
import { RtpAudioReceiver, type PcmChunk, type RtpAudioStats } from './RtpAudioReceiver';
import { TypedEmitter } from '../util/TypedEmitter';

export type AudioTapEvents = {
  pcm: [PcmChunk];
  /** The producer or the router closed: no more audio. */
  close: [];
};

export class AudioTap extends TypedEmitter<AudioTapEvents> {
  readonly producerId: string;
  readonly #transport: ms.DirectTransport;
  readonly #consumer: ms.Consumer;
  readonly #receiver: RtpAudioReceiver;
  readonly #timer: NodeJS.Timeout;
  #closed = false;

  private constructor(producerId: string, transport: ms.DirectTransport, consumer: ms.Consumer,
    receiver: RtpAudioReceiver) {
    super();
    this.producerId = producerId;
    this.#transport = transport;
    this.#consumer = consumer;
    this.#receiver = receiver;
    receiver.on('pcm', (chunk) => this.safeEmit('pcm', chunk));
    consumer.on('rtp', (packet: Buffer) => receiver.push(packet, performance.now()));
    consumer.on('producerclose', () => this.close());
    consumer.on('transportclose', () => this.close());
    this.#timer = setInterval(() => receiver.tick(performance.now()), 10);
    this.#timer.unref();
  }

  /**
   * Starts consuming `producerId` (an Opus audio producer on `router`).
   * @throws if the producer is not audio/opus or mediasoup refuses the consumer.
   */
  static async create(router: ms.Router, producerId: string, options: { reorderMs?: number } = {}): Promise<AudioTap> {
    const transport = await router.createDirectTransport();
    try {
      const consumer = await transport.consume({ producerId, rtpCapabilities: router.rtpCapabilities });
      if (consumer.kind !== 'audio' || consumer.rtpParameters.codecs[0]?.mimeType.toLowerCase() !== 'audio/opus') {
        throw new Error(`producer ${producerId} is not Opus audio (${consumer.rtpParameters.codecs[0]?.mimeType})`);
      }
      return new AudioTap(producerId, transport, consumer, new RtpAudioReceiver(options));
    } catch (error) {
      transport.close();
      throw error;
    }
  }

  get stats(): Readonly<RtpAudioStats> {
    return this.#receiver.stats;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Idempotent: closes the consumer and its transport (not the producer). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    this.#receiver.close();
    this.#transport.close();
    this.safeEmit('close');
    this.removeAllListeners();
  }
}
