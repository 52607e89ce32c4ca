/**
 * A node socket.io-client speaking the signalling protocol, for server tests: typed requests,
 * raw emits for garbage, and collected notifications. Not a browser: it creates transports and
 * producers with hand-made parameters, which is all the server can tell apart.
 */
import { io, type Socket } from 'socket.io-client';
import type {
  ClientToServerEvents,
  ServerToClientEvents,
  SignallingMethod,
  SignallingNotification,
  SignallingRequestInput,
  SignallingResponse,
  SignallingResults,
} from '@shared/signalling';

/** The input `data` of method M (methods that share a schema, like pause/resume, included). */
type RequestInputData<M extends SignallingMethod> = SignallingRequestInput extends infer R
  ? R extends { method: infer Methods; data?: infer D }
    ? M extends Methods
      ? D
      : never
    : never
  : never;

export class SignallingTestClient {
  readonly socket: Socket<ServerToClientEvents, ClientToServerEvents>;
  readonly notifications: SignallingNotification[] = [];

  private constructor(socket: Socket<ServerToClientEvents, ClientToServerEvents>) {
    this.socket = socket;
    socket.on('notification', (n) => this.notifications.push(n));
  }

  /**
   * Connects over WebSocket. `localAddress` binds the client end (e.g. '127.0.0.2', another
   * loopback address, to look like a second machine); `headers` are sent with the handshake.
   * Rejects with socket.io's connect_error (its `data` carries a refusal's `{ code, message }`).
   */
  static async connect(url: string, options: { localAddress?: string; headers?: Record<string, string> } = {}): Promise<SignallingTestClient> {
    const socket: Socket<ServerToClientEvents, ClientToServerEvents> = io(url, {
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
      // engine.io-client passes localAddress on to the ws socket in Node.
      ...(options.localAddress ? ({ localAddress: options.localAddress } as object) : {}),
      ...(options.headers ? { extraHeaders: options.headers } : {}),
    });
    const client = new SignallingTestClient(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', (error) => {
        socket.disconnect();
        reject(error);
      });
    });
    return client;
  }

  /** Sends anything as a request and resolves with the raw ack. */
  raw(payload: unknown, timeoutMs = 10_000): Promise<SignallingResponse> {
    return this.socket.timeout(timeoutMs).emitWithAck('request', payload);
  }

  async request<M extends SignallingMethod>(
    method: M,
    data: RequestInputData<M>,
  ): Promise<SignallingResults[M]> {
    const response = await this.raw({ method, data });
    if (!response.ok) {
      throw Object.assign(new Error(`${method}: ${response.error.code}: ${response.error.message}`), {
        code: response.error.code,
      });
    }
    return response.data as SignallingResults[M];
  }

  /** Resolves with the first notification (already received or future) that matches. */
  async waitFor<T extends SignallingNotification['type']>(
    type: T,
    predicate: (n: Extract<SignallingNotification, { type: T }>) => boolean = () => true,
    timeoutMs = 10_000,
  ): Promise<Extract<SignallingNotification, { type: T }>> {
    const matches = (n: SignallingNotification): n is Extract<SignallingNotification, { type: T }> =>
      n.type === type && predicate(n as Extract<SignallingNotification, { type: T }>);
    const seen = this.notifications.find(matches);
    if (seen) return seen;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.socket.off('notification', listener);
        reject(new Error(`no "${type}" notification within ${timeoutMs} ms`));
      }, timeoutMs);
      const listener = (n: SignallingNotification) => {
        if (!matches(n)) return;
        clearTimeout(timer);
        this.socket.off('notification', listener);
        resolve(n);
      };
      this.socket.on('notification', listener);
    });
  }

  /** getRouterRtpCapabilities + join, using the router's own capabilities as the client's. */
  async join(roomId: string, displayName: string): Promise<SignallingResults['join'] & { rtpCapabilities: unknown }> {
    const { rtpCapabilities } = await this.request('getRouterRtpCapabilities', { roomId });
    const joined = await this.request('join', {
      roomId,
      displayName,
      rtpCapabilities: rtpCapabilities as never,
      sctpCapabilities: { numStreams: { OS: 1024, MIS: 1024 } },
    });
    return { ...joined, rtpCapabilities };
  }

  close(): void {
    this.socket.disconnect();
  }
}

/** An Opus RTP parameter set a browser could have produced. */
export function opusRtpParameters(ssrc: number) {
  return {
    mid: '0',
    codecs: [
      {
        mimeType: 'audio/opus',
        payloadType: 111,
        clockRate: 48000,
        channels: 2,
        parameters: { minptime: 10, useinbandfec: 1 },
        rtcpFeedback: [{ type: 'transport-cc' }],
      },
    ],
    headerExtensions: [],
    encodings: [{ ssrc }],
    rtcp: { cname: `test-${ssrc}`, reducedSize: true },
  };
}
