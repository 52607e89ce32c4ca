/**
 * A UDP port that accepts packets and never reads them (a Python child that binds and sleeps):
 * the kernel drops what overflows its buffer, sends no ICMP errors, and it costs no CPU, so
 * hundreds of consumers can send to it without a receiver competing with the worker for cores.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';

const script = [
  'import socket, sys, time',
  's = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)',
  "s.bind(('127.0.0.1', 0))",
  'print(s.getsockname()[1], flush=True)',
  'sys.stdin.read()', // exits when the parent closes stdin (or dies)
].join('\n');

export class UdpBlackhole {
  readonly port: number;
  readonly #child: ChildProcess;

  private constructor(child: ChildProcess, port: number) {
    this.#child = child;
    this.port = port;
  }

  static async create(): Promise<UdpBlackhole> {
    const child = spawn('python3', ['-c', script], { stdio: ['pipe', 'pipe', 'inherit'] });
    const [line] = (await Promise.race([
      once(child.stdout!, 'data'),
      once(child, 'exit').then(() => Promise.reject(new Error('UDP blackhole exited'))),
    ])) as [Buffer];
    return new UdpBlackhole(child, Number(line.toString().trim()));
  }

  close(): void {
    this.#child.stdin?.end();
    this.#child.kill();
  }
}
