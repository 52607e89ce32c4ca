/**
 * The whole server: mediasoup workers, rooms, HTTP (REST, metrics, client) and socket.io
 * signalling. `start()` brings it up on `config.http`; `close()` tears it down in reverse.
 */
import { existsSync } from 'node:fs';
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { MotionFrame } from '@shared/motion';
import type { Config } from './config';
import { createHttpApp } from './http/createHttpApp';
import { createLogger, type Logger } from './logger';
import { WorkerPool } from './media/WorkerPool';
import { ServerMetrics } from './metrics/ServerMetrics';
import { MotionMetrics } from './motion/MotionMetrics';
import { MotionService } from './motion/MotionService';
import { sharedMotionCodec } from './motion/sharedMotionCodec';
import { RoomRegistry } from './rooms/RoomRegistry';
import { SignallingServer } from './signalling/SignallingServer';
import { AvatarMetrics } from './avatar/AvatarMetrics';
import { AvatarService } from './avatar/AvatarService';
import { avatarRequestHandler } from './avatar/avatarRequests';
import { ConfigIdentityAccess } from './avatar/ConfigIdentityAccess';
import type { IdentityAccess } from './identities/IdentityAccess';

export type AvatarServerOptions = {
  /** Defaults to a pino logger at `config.log.level`. */
  logger?: Logger;
  /** Who may drive which identity; defaults to the config-backed grants (`config.avatar`). */
  identities?: IdentityAccess;
};

export class AvatarServer {
  readonly config: Config;
  readonly logger: Logger;
  readonly metrics: ServerMetrics;
  readonly workers: WorkerPool;
  readonly rooms: RoomRegistry;
  readonly signalling: SignallingServer;
  /** Avatar-mode motion streams, one per peer with a 'motion' data channel. */
  readonly motion: MotionService<MotionFrame>;
  /** Avatar rendering: one session per avatar-mode peer. */
  readonly avatars: AvatarService;
  readonly httpServer: HttpServer;
  /** Loopback URL of this server, e.g. http://127.0.0.1:3000 (what tests and the banner use). */
  readonly url: string;
  #closing: Promise<void> | undefined;

  private constructor(fields: {
    config: Config;
    logger: Logger;
    metrics: ServerMetrics;
    workers: WorkerPool;
    rooms: RoomRegistry;
    signalling: SignallingServer;
    motion: MotionService<MotionFrame>;
    avatars: AvatarService;
    httpServer: HttpServer;
    url: string;
  }) {
    this.config = fields.config;
    this.logger = fields.logger;
    this.metrics = fields.metrics;
    this.workers = fields.workers;
    this.rooms = fields.rooms;
    this.signalling = fields.signalling;
    this.motion = fields.motion;
    this.avatars = fields.avatars;
    this.httpServer = fields.httpServer;
    this.url = fields.url;
  }

  static async start(config: Config, options: AvatarServerOptions = {}): Promise<AvatarServer> {
    const logger = options.logger ?? createLogger(config.log.level);
    const metrics = new ServerMetrics();
    const workers = await WorkerPool.create({
      numWorkers: config.mediasoup.numWorkers,
      logLevel: config.mediasoup.workerLogLevel,
      restartDelayMs: config.mediasoup.workerRestartDelayMs,
      logger,
      metrics,
    });
    const rooms = new RoomRegistry({ pool: workers, config, logger, metrics });
    const motion = new MotionService({
      rooms,
      codec: sharedMotionCodec(),
      config: config.motion,
      metrics: new MotionMetrics(metrics.registry),
      logger,
    });
    const avatars = new AvatarService({
      motion,
      identities: options.identities ?? new ConfigIdentityAccess(config.avatar),
      config: config.avatar,
      metrics: new AvatarMetrics(metrics.registry),
      logger,
    });
    const app = createHttpApp({ config, rooms, motion, metrics, logger });
    const httpServer = createServer(app);
    const signalling = new SignallingServer({ httpServer, rooms, config, logger, metrics, avatar: avatarRequestHandler(avatars) });
    try {
      await new Promise<void>((resolve, reject) => {
        httpServer.once('error', reject);
        httpServer.listen(config.http.port, config.http.host, () => {
          httpServer.off('error', reject);
          resolve();
        });
      });
    } catch (error) {
      await signalling.close().catch(() => undefined);
      await avatars.close();
      motion.close();
      rooms.close();
      workers.close();
      throw error;
    }
    const { port } = httpServer.address() as AddressInfo;
    const host = ['0.0.0.0', '::', '127.0.0.1', 'localhost'].includes(config.http.host) ? '127.0.0.1' : config.http.host;
    const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
    logger.info({ url, workers: workers.workers.map((w) => w.pid) }, 'avatar server listening');
    if (!existsSync(config.faceLandmarkerModelPath)) {
      // Calls still work; only avatar mode needs the model, and its panel tells the user.
      logger.warn(
        { path: config.faceLandmarkerModelPath },
        'face landmarker model not found: avatar mode is unavailable until FACE_LANDMARKER_MODEL_PATH names Google\'s face_landmarker.task',
      );
    }
    return new AvatarServer({ config, logger, metrics, workers, rooms, signalling, motion, avatars, httpServer, url });
  }

  get closed(): boolean {
    return this.#closing !== undefined;
  }

  /** Idempotent: rooms (clients told `serverShutdown`), sockets, HTTP server, workers. */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    await this.avatars.close();
    this.motion.close();
    this.rooms.close('serverShutdown');
    const signallingClosed = this.signalling.close();
    // Keep-alive HTTP connections would hold the server open; socket.io closes the listener.
    this.httpServer.closeAllConnections();
    await signallingClosed;
    this.workers.close();
    this.logger.info('avatar server closed');
  }
}
