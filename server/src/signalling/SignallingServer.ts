/**
 * socket.io on the HTTP server: one SignallingSession per connection, at most
 * `limits.maxConnectionsPerAddress` per client address. Frames above
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
import { AddressLimits, clientAddressKey } from './AddressLimits';
import type { SignallingError } from './SignallingError';
import { SignallingSession } from './SignallingSession';
import type { AvatarRequestHandler } from '../avatar/avatarRequests';

export type SignallingServerOptions = {
  httpServer: HttpServer;
  rooms: RoomRegistry;
  config: Config;
  logger: Logger;
  metrics: ServerMetrics;
  /** Avatar methods (listIdentities, startAvatar, stopAvatar). */
  avatar?: AvatarRequestHandler;
};

export class SignallingServer {
  readonly io: Server<ClientToServerEvents, ServerToClientEvents>;
  /** Connections and room creations per client address, shared by all sessions. */
  readonly addressLimits: AddressLimits;
  readonly #sessions = new Set<SignallingSession>();
  #closed = false;

  constructor(options: SignallingServerOptions) {
    const log = options.logger.child({ component: 'signalling' });
    this.io = new Server<ClientToServerEvents, ServerToClientEvents>(options.httpServer, {
      maxHttpBufferSize: maxSignallingMessageBytes,
      serveClient: false,
      // Same-origin by default (the server serves the client); no CORS headers are sent.
    });
    const { limits, http } = options.config;
    this.addressLimits = new AddressLimits(limits);
    const addressOf = (socket: { handshake: { address: string; headers: Record<string, string | string[] | undefined> } }) =>
      clientAddressKey(socket.handshake.address, socket.handshake.headers['x-forwarded-for'], http.trustProxy);
    // Refused before the connection exists: the client's connect_error carries the reason.
    this.io.use((socket, next) => {
      try {
        this.addressLimits.checkConnection(addressOf(socket));
        next();
      } catch (error) {
        const refusal = error as SignallingError;
        log.debug({ address: addressOf(socket) }, 'connection refused: too many from its address');
        next(Object.assign(new Error(refusal.message), { data: refusal.toPayload() }));
      }
    });
    this.io.on('connection', (socket) => {
      options.metrics.socketConnections.inc();
      const address = addressOf(socket);
      const releaseAddress = this.addressLimits.openConnection(address);
      const session = new SignallingSession({
        socket,
        address,
        addressLimits: this.addressLimits,
        rooms: options.rooms,
        config: options.config,
        logger: log,
        metrics: options.metrics,
        ...(options.avatar ? { avatar: options.avatar } : {}),
      });
      this.#sessions.add(session);
      socket.once('disconnect', () => {
        this.#sessions.delete(session);
        releaseAddress();
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
    this.addressLimits.close();
    for (const session of this.#sessions) session.close();
    this.io.disconnectSockets(true);
    // io.close() also closes the HTTP server it is attached to; AvatarServer closes that itself.
    await new Promise<void>((resolve) => {
      this.io.close(() => resolve());
    });
  }
}
