/**
 * The onboarding REST API (admin token required unless noted), mounted under /api by
 * createHttpApp. Bodies are parsed with the shared schemas (@shared/onboarding); errors are
 * RegistryError / HttpError and answered by the app's one error handler.
 *
 *   POST   /api/identities                               multipart upload → 201 { identityId, jobId }
 *   GET    /api/identities                               → { identities: IdentityListItem[] }
 *   GET    /api/identities/:id                           → IdentityDetail (versions with gate reports)
 *   DELETE /api/identities/:id                           → 204
 *   POST   /api/identities/:id/versions/:v/publish       { override?: { reason } } → IdentityDetail
 *   DELETE /api/identities/:id/versions/:v               → 204
 *   GET    /api/identities/:id/versions/:v/preview|report  the version's preview video / report
 *   POST   /api/identities/:id/jobs                      train again from the same source: 201 JobStatus
 *   POST   /api/identities/:id/rollback                  { toVersion? } → IdentityDetail
 *   POST   /api/identities/:id/grants                    Grant → 201 Grant;  DELETE (same body) → 204
 *   GET    /api/jobs                                     → { jobs: JobStatus[] }
 *   GET    /api/jobs/:id                                 → JobStatus
 *   POST   /api/jobs/:id/cancel | /retry                 → JobStatus
 *   GET    /api/jobs/:id/log                             → text/plain (the CLI's stderr)
 *   GET    /api/jobs/:id/preview.png                     → latest preview frame
 *   GET    /api/events                                   → text/event-stream of `job` events (JobStatus)
 *   POST   /api/tokens                                   { roomId, displayName, identities, ttlS } → { token, expiresAt }
 *   GET    /api/audit?identityId=                        → { entries: AuditEntry[] }
 *   GET    /api/openapi.json                             the OpenAPI 3.1 document (no token)
 *   POST   /api/self/identities                          "Create my avatar" (join token or open policy) → 201 { identityId, jobId, jobKey, token, roomId }
 *   GET    /api/self/jobs/:id[/events|/preview.png]?key= that job only, with its key
 *   POST   /api/admin/session                            Bearer → sets the admin cookie (for <img>, <video>, EventSource)
 */
import { existsSync } from 'node:fs';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import {
  grantSchema,
  identityIdSchema,
  jobIdSchema,
  joinTokenRequestSchema,
  publishRequestSchema,
  rollbackRequestSchema,
  type JobStatus,
} from '@shared/onboarding';
import type { z } from 'zod';
import { HttpError } from '../http/HttpError';
import type { OnboardingService } from './OnboardingService';
import { RegistryError } from './RegistryError';
import { openApiDocument } from './openApiDocument';

export const ADMIN_COOKIE = 'avatar_admin';

export function onboardingRoutes(service: OnboardingService): Router {
  const router = express.Router();
  const json = express.json({ limit: '64kb' });
  const actor = 'admin';

  const requireAdmin = (req: Request, _res: Response, next: NextFunction) => {
    const header = req.headers.authorization;
    const bearer = header?.startsWith('Bearer ') ? header.slice(7).trim() : undefined;
    const cookie = readCookie(req.headers.cookie, ADMIN_COOKIE);
    if (service.isAdminToken(bearer) || service.isAdminToken(cookie)) return next();
    next(new HttpError(401, 'UNAUTHORIZED', header || cookie ? 'the admin token is not valid' : 'this needs the admin token: Authorization: Bearer <token>'));
  };

  const parse = <S extends z.ZodType>(schema: S, value: unknown, what: string): z.infer<S> => {
    const r = schema.safeParse(value);
    if (!r.success) {
      const issue = r.error.issues[0];
      throw new HttpError(400, 'BAD_REQUEST', `${what}${issue?.path.length ? `.${issue.path.join('.')}` : ''}: ${issue?.message ?? 'invalid'}`);
    }
    return r.data;
  };
  const idParam = (req: Request) => parse(identityIdSchema, req.params.id, 'identity id');
  const versionParam = (req: Request) => {
    // Decimal digits only: Number() alone also takes '0x1', '1e3', '+1', '1.0' and blanks.
    const text = String(req.params.v);
    const v = /^[1-9][0-9]{0,8}$/.test(text) ? Number(text) : NaN;
    if (!Number.isInteger(v)) throw new HttpError(400, 'BAD_REQUEST', 'version must be a positive integer');
    return v;
  };
  const jobParam = (req: Request) => parse(jobIdSchema, req.params.id, 'job id');

  // Public: the API description, generated from the zod schemas.
  router.get('/openapi.json', (_req, res) => {
    res.json(openApiDocument());
  });

  router.post('/admin/session', requireAdmin, (req, res) => {
    const header = req.headers.authorization ?? '';
    const token = header.startsWith('Bearer ') ? header.slice(7).trim() : readCookie(req.headers.cookie, ADMIN_COOKIE);
    res.cookie(ADMIN_COOKIE, token, { httpOnly: true, sameSite: 'strict', path: '/api', secure: req.secure });
    res.status(204).end();
  });

  router.post('/identities', requireAdmin, async (req, res) => {
    try {
      const accepted = await service.upload(req, actor);
      res.status(201).json(accepted);
    } catch (error) {
      if (!req.complete) {
        // The body is still arriving (e.g. cut short at the size limit): answer, then drop the connection.
        res.set('Connection', 'close');
        res.once('finish', () => req.socket.destroy());
      }
      throw error;
    }
  });

  // "Create my avatar" (SelfOnboarding): no admin token; a join token or the open policy.
  router.post('/self/identities', async (req, res) => {
    try {
      res.status(201).json(await service.self.upload(req, typeof req.query.room === 'string' ? req.query.room : undefined));
    } catch (error) {
      if (!req.complete) {
        res.set('Connection', 'close');
        res.once('finish', () => req.socket.destroy());
      }
      throw error;
    }
  });
  router.get('/self/jobs/:id', (req, res) => {
    const id = jobParam(req);
    service.self.checkJobKey(id, typeof req.query.key === 'string' ? req.query.key : undefined);
    res.json(service.queue.status(id));
  });
  router.get('/self/jobs/:id/preview.png', (req, res, next) => {
    const id = jobParam(req);
    service.self.checkJobKey(id, typeof req.query.key === 'string' ? req.query.key : undefined);
    const path = service.queue.previewPath(id);
    if (!path) throw new HttpError(404, 'NOT_FOUND', 'no preview frame yet');
    res.set('Cache-Control', 'no-store');
    res.type('image/png').sendFile(path, { dotfiles: 'allow' }, (error) => error && next(error));
  });
  router.get('/self/jobs/:id/events', (req, res) => {
    const id = jobParam(req);
    service.self.checkJobKey(id, typeof req.query.key === 'string' ? req.query.key : undefined);
    streamJobs(req, res, (s) => s.id === id, service.queue.status(id));
  });

  router.get('/identities', requireAdmin, (_req, res) => {
    res.json({ identities: service.registry.listIdentities() });
  });
  router.get('/identities/:id', requireAdmin, (req, res) => {
    res.json(service.registry.getIdentity(idParam(req)));
  });
  router.delete('/identities/:id', requireAdmin, (req, res) => {
    service.registry.deleteIdentity(idParam(req), actor, (id) => service.queue.hasActiveJob(id));
    res.status(204).end();
  });
  router.post('/identities/:id/versions/:v/publish', requireAdmin, json, (req, res) => {
    const id = idParam(req);
    const body = parse(publishRequestSchema, req.body ?? {}, 'body');
    service.registry.publish(id, versionParam(req), actor, body.override);
    res.json(service.registry.getIdentity(id));
  });
  router.delete('/identities/:id/versions/:v', requireAdmin, (req, res) => {
    service.registry.deleteVersion(idParam(req), versionParam(req), actor);
    res.status(204).end();
  });
  for (const which of ['preview', 'report'] as const) {
    router.get(`/identities/:id/versions/:v/${which}`, requireAdmin, (req, res, next) => {
      const path = service.registry.versionFile(idParam(req), versionParam(req), which);
      res.sendFile(path, { dotfiles: 'allow' }, (error) => error && next(error));
    });
  }
  router.post('/identities/:id/jobs', requireAdmin, (req, res) => {
    const id = idParam(req);
    // A second click while one is queued or running would train the same source twice.
    if (service.queue.hasActiveJob(id)) {
      throw new RegistryError(409, 'JOB_ACTIVE', `identity "${id}" already has a training job queued or running; wait for it or cancel it first`);
    }
    const jobId = service.registry.createJob(id, actor);
    service.queue.pump();
    res.status(201).json(service.queue.status(jobId));
  });
  router.post('/identities/:id/rollback', requireAdmin, json, (req, res) => {
    const id = idParam(req);
    const body = parse(rollbackRequestSchema, req.body ?? {}, 'body');
    service.registry.rollback(id, actor, body.toVersion);
    res.json(service.registry.getIdentity(id));
  });
  router.post('/identities/:id/grants', requireAdmin, json, (req, res) => {
    const grant = service.registry.addGrant(idParam(req), parse(grantSchema, req.body, 'grant'), actor);
    res.status(201).json(grant);
  });
  router.delete('/identities/:id/grants', requireAdmin, json, (req, res) => {
    service.registry.removeGrant(idParam(req), parse(grantSchema, req.body, 'grant'), actor);
    res.status(204).end();
  });

  router.get('/jobs', requireAdmin, (_req, res) => {
    res.json({ jobs: service.registry.jobs.list().map((row) => service.registry.jobs.status(row)) });
  });
  router.get('/jobs/:id', requireAdmin, (req, res) => {
    res.json(service.queue.status(jobParam(req)));
  });
  router.post('/jobs/:id/cancel', requireAdmin, (req, res) => {
    res.json(service.queue.cancel(jobParam(req), actor));
  });
  router.post('/jobs/:id/retry', requireAdmin, (req, res) => {
    res.json(service.queue.retry(jobParam(req), actor));
  });
  router.get('/jobs/:id/log', requireAdmin, (req, res, next) => {
    const id = jobParam(req);
    service.queue.status(id);
    const log = service.registry.layout.jobLog(id);
    if (!existsSync(log)) throw new HttpError(404, 'NOT_FOUND', 'this job has no log yet');
    res.type('text/plain').sendFile(log, { dotfiles: 'allow' }, (error) => error && next(error));
  });
  router.get('/jobs/:id/preview.png', requireAdmin, (req, res, next) => {
    const path = service.queue.previewPath(jobParam(req));
    if (!path) throw new HttpError(404, 'NOT_FOUND', 'no preview frame yet');
    res.set('Cache-Control', 'no-store');
    res.type('image/png').sendFile(path, { dotfiles: 'allow' }, (error) => error && next(error));
  });

  // Server-sent events: every job change, as it happens (no polling).
  router.get('/events', requireAdmin, (req, res) => {
    streamJobs(req, res, () => true);
  });

  router.post('/tokens', requireAdmin, json, async (req, res) => {
    const body = parse(joinTokenRequestSchema, req.body, 'body');
    for (const identityId of body.identities) {
      if (!service.registry.identityRow(identityId) && identityId !== service.config.demo.identityId) {
        throw new HttpError(404, 'IDENTITY_NOT_FOUND', `identity "${identityId}" does not exist`);
      }
    }
    const issued = await service.joinTokens.issue(body);
    service.registry.audit(actor, 'token.issue', null, { roomId: body.roomId, displayName: body.displayName, identities: body.identities, expiresAt: issued.expiresAt.toISOString() });
    res.status(201).json({ token: issued.token, expiresAt: issued.expiresAt.toISOString() });
  });

  router.get('/audit', requireAdmin, (req, res) => {
    const identityId = typeof req.query.identityId === 'string' ? parse(identityIdSchema, req.query.identityId, 'identityId') : undefined;
    res.json({ entries: service.registry.listAudit(identityId ? { identityId } : {}) });
  });

  /** Server-sent `job` events (JobStatus) matching `filter`, starting with `initial` if given. */
  function streamJobs(req: Request, res: Response, filter: (s: JobStatus) => boolean, initial?: JobStatus): void {
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store', Connection: 'keep-alive', 'X-Accel-Buffering': 'no' });
    res.write('retry: 2000\n\n');
    const send = (status: JobStatus) => {
      if (filter(status)) res.write(`event: job\ndata: ${JSON.stringify(status)}\n\n`);
    };
    if (initial) send(initial);
    const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
    service.queue.on('job', send);
    req.once('close', () => {
      clearInterval(heartbeat);
      service.queue.off('job', send);
    });
  }

  return router;
}

function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return undefined;
}
