/** A UDP socket in this process that counts the RTP packets it receives per SSRC (RTCP, muxed on the same port, is not counted). */
import { createSocket, type Socket } from 'node:dgram';

export class UdpCounter {
  readonly port: number;
  /** RTP packets received per SSRC (mediasoup's bandwidth probation packets use SSRC 1234). */
  readonly bySsrc = new Map<number, number>();
  readonly #socket: Socket;

  private constructor(socket: Socket, port: number) {
    this.#socket = socket;
    this.port = port;
    socket.on('message', (packet) => {
      // RFC 5761: second byte 192..223 is an RTCP packet type (SR, RR, SDES...), not RTP.
      const second = packet[1] ?? 0;
      if (packet.length >= 12 && (second < 192 || second > 223)) {
        const ssrc = packet.readUInt32BE(8);
        this.bySsrc.set(ssrc, (this.bySsrc.get(ssrc) ?? 0) + 1);
      }
    });
  }

  static async create(): Promise<UdpCounter> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, '127.0.0.1', () => resolve());
    });
    socket.setRecvBufferSize(8 * 1024 * 1024);
    return new UdpCounter(socket, socket.address().port);
  }

  /** RTP packets received with any of these SSRCs. */
  packetsOf(ssrcs: number[]): number {
    return ssrcs.reduce((sum, ssrc) => sum + (this.bySsrc.get(ssrc) ?? 0), 0);
  }

  close(): void {
    this.#socket.close();
  }
}
