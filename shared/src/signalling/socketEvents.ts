/**
 * socket.io event maps, for `Server<ClientToServerEvents, ServerToClientEvents>` and
 * `Socket<ServerToClientEvents, ClientToServerEvents>`. Payloads are typed `unknown` on the
 * receiving side on purpose: each side parses what it receives with the zod schemas.
 */
import type { SignallingNotification } from './notifications';
import type { SignallingResponse } from './responses';

export interface ClientToServerEvents {
  request: (request: unknown, ack: (response: SignallingResponse) => void) => void;
}

export interface ServerToClientEvents {
  notification: (notification: SignallingNotification) => void;
}

/** Largest signalling message the server reads, in bytes; socket.io drops larger frames. */
export const maxSignallingMessageBytes = 256 * 1024;
