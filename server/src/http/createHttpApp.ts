/**
 * The express app: health, room inspection, Prometheus metrics, the MediaPipe model, the built
 * browser client (with /room/:id → index.html), and ONE error handler that answers
 * `{ error: { code, message } }`.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import express, { type ErrorRequestHandler, type Express } from 'express';
import { roomIdSchema } from '@shared/signalling';
import type { Config } from '../config';
import type { Logger } from '../logger';
import type { ServerMetrics } from '../metrics/ServerMetrics';
import type { MotionService } from '../motion/MotionService';
import type { RoomRegistry } from '../rooms/RoomRegistry';
import type { OnboardingService } from '../identities/OnboardingService';
import { onboardingRoutes } from '../identities/onboardingRoutes';
import { HttpError } from './HttpError';
import { MEDIAPIPE_WASM_PATH, mediapipeWasmRoute } from './mediapipeWasmRoute';

export type HttpAppOptions = {
  config: Config;
  rooms: RoomRegistry;
  /** Per-peer motion uplink stats for `/api/rooms/:id/motion`. */
  motion: Pick<MotionService, 'stream'>;
  metrics: ServerMetrics;
  logger: Logger;
  /** Identity registry, uploads, jobs and grants under /api (see onboardingRoutes.ts). */
  onboarding?: OnboardingService;
};

export function createHttpApp({ config, rooms, motion, metrics, logger, onboarding }: HttpAppOptions): Express {
  const log = logger.child({ component: 'http' });
  const app = express();
  app.disable('x-powered-by');

  app.get('/health', (_req, res) => {
    res.json({ status: 'ok' });
  });

  app.get('/api/rooms', (_req, res) => {
    res.json({ rooms: [...rooms.rooms.values()].map((room) => ({ id: room.id, peers: room.peers.size, workerPid: room.worker.pid })) });
  });

  const roomOf = (rawId: string) => {
    const id = roomIdSchema.safeParse(rawId);
    if (!id.success) throw new HttpError(400, 'BAD_REQUEST', id.error.issues[0]?.message ?? 'invalid room id');
    const room = rooms.get(id.data);
    if (!room) throw new HttpError(404, 'NOT_FOUND', `room "${id.data}" not found`);
    return room;
  };

  app.get('/api/rooms/:id', (req, res) => {
    res.json(roomOf(req.params.id).toJSON());
  });

  // The motion uplink of every avatar-mode peer (the same figures as the page's stats panel).
  app.get('/api/rooms/:id/motion', (req, res) => {
    const room = roomOf(req.params.id);
    const peers = [...room.peers.keys()].flatMap((peerId) => {
      const stream = motion.stream(room.id, peerId);
      return stream ? [stream.stats()] : [];
    });
    res.json({ room: room.id, peers });
  });

  if (onboarding) app.use('/api', onboardingRoutes(onboarding));

  app.use('/api', () => {
    throw new HttpError(404, 'NOT_FOUND', 'no such API route');
  });

  app.get('/metrics', async (_req, res) => {
    res.set('Content-Type', metrics.registry.contentType);
    res.send(await metrics.registry.metrics());
  });

  app.get('/models/face_landmarker.task', (_req, res, next) => {
    if (!existsSync(config.faceLandmarkerModelPath)) {
      throw new HttpError(404, 'NOT_FOUND', 'face landmarker model not found on the server');
    }
    res.sendFile(config.faceLandmarkerModelPath, { maxAge: '1h' }, (error) => error && next(error));
  });

  // MediaPipe's wasm runtime for the browser FaceTracker, from node_modules (never a CDN).
  app.use(MEDIAPIPE_WASM_PATH, mediapipeWasmRoute());

  const indexHtml = join(config.clientDistDir, 'index.html');
  const sendClient: express.RequestHandler = (_req, res, next) => {
    if (!existsSync(indexHtml)) {
      throw new HttpError(503, 'CLIENT_NOT_BUILT', 'the browser client is not built: run `npm run build:client`');
    }
    res.sendFile(indexHtml, (error) => error && next(error));
  };
  app.get('/', (_req, res) => res.redirect('/room/demo'));
  // The admin pages (client/admin.html, same build): the page asks for the admin token itself.
  app.get(['/admin', '/admin/*rest'], (_req, res, next) => {
    const adminHtml = join(config.clientDistDir, 'admin.html');
    if (!existsSync(adminHtml)) throw new HttpError(503, 'CLIENT_NOT_BUILT', 'the browser client is not built: run `npm run build:client`');
    res.sendFile(adminHtml, (error) => error && next(error));
  });
  app.get('/room/:id', (req, res, next) => {
    const id = roomIdSchema.safeParse(req.params.id);
    if (!id.success) throw new HttpError(400, 'BAD_REQUEST', id.error.issues[0]?.message ?? 'invalid room id');
    sendClient(req, res, next);
  });
  app.use(express.static(config.clientDistDir, { index: false }));

  app.use(() => {
    throw new HttpError(404, 'NOT_FOUND', 'not found');
  });

  const errorHandler: ErrorRequestHandler = (error, _req, res, _next) => {
    const known = error instanceof HttpError;
    // body-parser / send errors carry a status; anything else is our bug.
    const status = known ? error.status : typeof error?.status === 'number' ? error.status : 500;
    const code = known ? error.code : status === 404 ? 'NOT_FOUND' : status < 500 ? 'BAD_REQUEST' : 'INTERNAL';
    const message = known || status < 500 ? String(error.message) : 'internal server error';
    // Expected unavailability (the client not built yet) is a warning without a stack; the rest is our bug.
    if (known && status === 503) log.warn({ code, message }, 'request refused');
    else if (status >= 500) log.error({ err: error }, 'request failed');
    if (res.headersSent) return;
    res.status(status).json({ error: { code, message } });
  };
  app.use(errorHandler);
  return app;
}
