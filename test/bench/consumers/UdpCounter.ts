/** A UDP socket in this process that counts what it receives (for a sample of consumers). */
import { createSocket, type Socket } from 'node:dgram';

export class UdpCounter {
  readonly port: number;
  packets = 0;
  readonly #socket: Socket;

  private constructor(socket: Socket, port: number) {
    this.#socket = socket;
    this.port = port;
    socket.on('message', () => {
      this.packets += 1;
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

  close(): void {
    this.#socket.close();
  }
}
