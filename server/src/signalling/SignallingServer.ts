/**
 * socket.io on the HTTP server: one SignallingSession per connection. Frames above
 * `maxSignallingMessageBytes` are refused by socket.io itself; smaller oversize requests get
 * PAYLOAD_TOO_LARGE from the session.
 */
import type { Server as HttpServer } from 'node:http';
import { Server } from 'socket.io';
import { maxSignallingMessageBytes, type ClientToServerEvents, type ServerToClientEvents } from '@shared/signalling';
import type { Config } from '../config';
import type { Logger } from '../logger';
import type { ServerMetrics } from '../metrics/ServerMetrics';
import type { RoomRegistry } from '../rooms/RoomRegistry';
import type { JoinAuthorizer } from '../identities/JoinAuthorizer';
import { SignallingSession } from './SignallingSession';

export type SignallingServerOptions = {
  httpServer: HttpServer;
  rooms: RoomRegistry;
  config: Config;
  logger: Logger;
  metrics: ServerMetrics;
  /** Join-token check passed to every session. */
  joinAuthorizer?: JoinAuthorizer;
};

export class SignallingServer {
  readonly io: Server<ClientToServerEvents, ServerToClientEvents>;
  readonly #sessions = new Set<SignallingSession>();
  #closed = false;

  constructor(options: SignallingServerOptions) {
    const log = options.logger.child({ component: 'signalling' });
    this.io = new Server<ClientToServerEvents, ServerToClientEvents>(options.httpServer, {
      maxHttpBufferSize: maxSignallingMessageBytes,
      serveClient: false,
      // Same-origin by default (the server serves the client); no CORS headers are sent.
    });
    this.io.on('connection', (socket) => {
      options.metrics.socketConnections.inc();
      const session = new SignallingSession({
        socket,
        rooms: options.rooms,
        config: options.config,
        logger: log,
        metrics: options.metrics,
        ...(options.joinAuthorizer ? { joinAuthorizer: options.joinAuthorizer } : {}),
      });
      this.#sessions.add(session);
      socket.once('disconnect', () => {
        this.#sessions.delete(session);
        options.metrics.socketConnections.dec();
      });
      log.debug({ socketId: socket.id }, 'socket connected');
    });
  }

  get sessionCount(): number {
    return this.#sessions.size;
  }

  /** Idempotent: disconnects every socket (their sessions leave their rooms). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const session of this.#sessions) session.close();
    this.io.disconnectSockets(true);
    // io.close() also closes the HTTP server it is attached to; AvatarServer closes that itself.
    await new Promise<void>((resolve) => {
      this.io.close(() => resolve());
    });
  }
}
