/**
 * The client end of the signalling socket: one typed `request()` per method and a typed stream
 * of server notifications. Everything received is parsed with the shared zod schemas; a
 * malformed answer becomes a `SignallingError` and a malformed notification is dropped and
 * counted, so the call code above never sees unchecked data.
 */
import { io, type Socket } from 'socket.io-client';
import {
  maxSignallingMessageBytes,
  signallingNotificationSchema,
  signallingResponseSchema,
  signallingResultSchemas,
  type ClientToServerEvents,
  type ServerToClientEvents,
  type SignallingMethod,
  type SignallingNotification,
  type SignallingRequestInput,
  type SignallingResults,
} from '@shared/signalling';
import { TypedEmitter } from '../util/TypedEmitter';
import { SignallingError } from './SignallingError';

/** What `request(method, data)` accepts as `data` (fields with defaults may be left out). */
export type RequestInput<M extends SignallingMethod> = SignallingRequestInput extends infer R
  ? R extends { method: infer RM; data?: infer D }
    ? M extends RM
      ? D
      : never
    : never
  : never;

export type SignallingClientEvents = {
  notification: [SignallingNotification];
  /** The socket dropped; the server has closed this peer, so the call is over. */
  disconnected: [reason: string];
};

export interface SignallingClientOptions {
  /** Server origin, e.g. `http://127.0.0.1:3000`; default: the page's own origin. */
  url?: string;
  requestTimeoutMs?: number;
  connectTimeoutMs?: number;
}

export class SignallingClient extends TypedEmitter<SignallingClientEvents> {
  readonly #socket: Socket<ServerToClientEvents, ClientToServerEvents>;
  readonly #requestTimeoutMs: number;
  #closed = false;
  #droppedNotifications = 0;

  /** Connects and resolves once the socket is open. */
  static async connect(options: SignallingClientOptions = {}): Promise<SignallingClient> {
    // Reconnecting would not restore the peer (the server closes it on disconnect), so the
    // call layer handles a drop by telling the user instead.
    const socketOptions = { transports: ['websocket'], reconnection: false, timeout: options.connectTimeoutMs ?? 10_000 };
    const socket: Socket<ServerToClientEvents, ClientToServerEvents> =
      options.url === undefined ? io(socketOptions) : io(options.url, socketOptions);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', (error) => {
        socket.close();
        reject(new SignallingError('connect', 'INTERNAL', `cannot reach the server: ${error.message}`, true, 'disconnected', { cause: error }));
      });
    });
    return new SignallingClient(socket, options.requestTimeoutMs ?? 15_000);
  }

  private constructor(socket: Socket<ServerToClientEvents, ClientToServerEvents>, requestTimeoutMs: number) {
    super();
    this.#socket = socket;
    this.#requestTimeoutMs = requestTimeoutMs;
    socket.on('notification', (raw: unknown) => this.#onNotification(raw));
    socket.on('disconnect', (reason) => {
      if (this.#closed) return;
      this.emit('disconnected', reason);
    });
  }

  get connected(): boolean {
    return this.#socket.connected;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Notifications that failed schema validation and were dropped. */
  get droppedNotifications(): number {
    return this.#droppedNotifications;
  }

  /** Sends one request and resolves with its checked result, or rejects with a SignallingError. */
  async request<M extends SignallingMethod>(method: M, data: RequestInput<M>): Promise<SignallingResults[M]> {
    if (this.#closed || !this.#socket.connected) {
      throw new SignallingError(method, 'INTERNAL', 'not connected to the server', true, 'disconnected');
    }
    const payload = { method, data };
    if (JSON.stringify(payload).length > maxSignallingMessageBytes) {
      throw new SignallingError(method, 'PAYLOAD_TOO_LARGE', 'request is larger than the server accepts', false, 'bad-response');
    }
    let raw: unknown;
    try {
      raw = await this.#socket.timeout(this.#requestTimeoutMs).emitWithAck('request', payload);
    } catch (error) {
      // socket.io rejects both a timeout and a connection lost mid-request; say which.
      if (this.#closed || !this.#socket.connected) {
        throw new SignallingError(method, 'INTERNAL', 'the connection to the server was lost before it answered', true, 'disconnected', { cause: error });
      }
      throw new SignallingError(method, 'INTERNAL', `no answer within ${this.#requestTimeoutMs} ms`, true, 'timeout', { cause: error });
    }
    const response = signallingResponseSchema.safeParse(raw);
    if (!response.success) {
      throw new SignallingError(method, 'INTERNAL', `malformed response: ${response.error.message}`, false, 'bad-response');
    }
    if (!response.data.ok) {
      const { code, message, retryable } = response.data.error;
      throw new SignallingError(method, code, message, retryable);
    }
    const schema = signallingResultSchemas[method];
    const result = schema.safeParse(response.data.data);
    if (!result.success) {
      throw new SignallingError(method, 'INTERNAL', `malformed result: ${result.error.message}`, false, 'bad-response');
    }
    return result.data;
  }

  /** Idempotent: closes the socket without emitting `disconnected`. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#socket.close();
    this.removeAllListeners();
  }

  #onNotification(raw: unknown): void {
    const parsed = signallingNotificationSchema.safeParse(raw);
    if (!parsed.success) {
      this.#droppedNotifications += 1;
      console.warn('dropped a malformed notification', parsed.error.message);
      return;
    }
    this.emit('notification', parsed.data);
  }
}
