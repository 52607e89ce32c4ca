/**
 * Sends one RTP video stream to a mediasoup PlainTransport (127.0.0.1, comedia, RTCP-mux) from
 * its own UDP socket, and listens on that socket for the RTCP mediasoup sends back: PLI and FIR
 * become `keyframeRequest` events; NACKed packets are resent from a short history.
 */
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import type { Logger } from '../../logger';
import { TypedEmitter } from '../../util/TypedEmitter';
import { isRtcp, parseRtcpFeedback } from './rtcpFeedback';
import { packetizeVp8, type RtpStreamState } from './vp8RtpPacketizer';

const HISTORY = 512;

export type RtpSenderEvents = {
  keyframeRequest: ['pli' | 'fir'];
  close: [];
};

export interface RtpSenderStats {
  packetsSent: number;
  bytesSent: number;
  framesSent: number;
  pliReceived: number;
  firReceived: number;
  nackReceived: number;
  retransmitted: number;
}

export class RtpSender extends TypedEmitter<RtpSenderEvents> {
  readonly ssrc: number;
  readonly #socket: Socket;
  readonly #port: number;
  readonly #state: RtpStreamState;
  readonly #history = new Map<number, Buffer>();
  readonly #log: Logger;
  #closed = false;
  readonly stats: RtpSenderStats = {
    packetsSent: 0,
    bytesSent: 0,
    framesSent: 0,
    pliReceived: 0,
    firReceived: 0,
    nackReceived: 0,
    retransmitted: 0,
  };

  private constructor(socket: Socket, port: number, payloadType: number, ssrc: number, logger: Logger) {
    super();
    this.#socket = socket;
    this.#port = port;
    this.ssrc = ssrc;
    this.#log = logger;
    this.#state = { payloadType, ssrc, sequence: Math.floor(Math.random() * 0x10000), pictureId: Math.floor(Math.random() * 0x8000) };
    socket.on('message', (message) => this.#onMessage(message));
    socket.on('error', (error) => this.#log.warn({ err: error }, 'RTP socket error'));
  }

  /** Opens a UDP socket on 127.0.0.1 that sends to `rtpPort`. */
  static async open(options: { rtpPort: number; payloadType: number; ssrc: number; logger: Logger }): Promise<RtpSender> {
    const socket = createSocket('udp4');
    socket.bind(0, '127.0.0.1');
    await once(socket, 'listening');
    return new RtpSender(socket, options.rtpPort, options.payloadType, options.ssrc, options.logger);
  }

  /** Packetizes and sends one VP8 frame at `timestamp` (90 kHz). Returns the packets sent. */
  sendVp8Frame(frame: Uint8Array, timestamp: number): number {
    if (this.#closed) return 0;
    const packets = packetizeVp8(frame, timestamp, this.#state);
    for (const packet of packets) {
      const seq = packet.readUInt16BE(2);
      this.#history.set(seq, packet);
      this.#history.delete((seq - HISTORY) & 0xffff);
      this.#socket.send(packet, this.#port, '127.0.0.1');
      this.stats.packetsSent += 1;
      this.stats.bytesSent += packet.length;
    }
    this.stats.framesSent += 1;
    return packets.length;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#socket.close();
    this.#history.clear();
    this.safeEmit('close');
    this.removeAllListeners();
  }

  #onMessage(message: Buffer): void {
    if (this.#closed || !isRtcp(message)) return;
    for (const fb of parseRtcpFeedback(message)) {
      if (fb.type === 'pli' || fb.type === 'fir') {
        if (fb.type === 'pli') this.stats.pliReceived += 1;
        else this.stats.firReceived += 1;
        this.safeEmit('keyframeRequest', fb.type);
      } else if (fb.type === 'nack') {
        this.stats.nackReceived += 1;
        for (const seq of fb.sequences) {
          const packet = this.#history.get(seq);
          if (!packet) continue;
          this.#socket.send(packet, this.#port, '127.0.0.1');
          this.stats.retransmitted += 1;
        }
      }
    }
  }
}
