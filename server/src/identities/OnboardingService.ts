/**
 * The onboarding service: the registry (SQLite + files), the training queue, upload checks, the
 * admin token, join tokens and the registry-backed IdentityAccess, created and closed together.
 * `AvatarServer` owns one; its HTTP routes live in `onboardingRoutes.ts`.
 */
import { rename, rm } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { timingSafeEqual, createHash } from 'node:crypto';
import { uploadFieldsSchema, type UploadAccepted } from '@shared/onboarding';
import type { Config } from '../config';
import type { Logger } from '../logger';
import type { z } from 'zod';
import type { IdentityAccess } from './IdentityAccess';
import { IdentityRegistry } from './IdentityRegistry';
import { JobQueue } from './JobQueue';
import { JoinAuthorizer } from './JoinAuthorizer';
import { JoinTokens } from './JoinTokens';
import { inspectUpload } from './mediaInspection';
import { receiveUpload } from './receiveUpload';
import { RegistryError } from './RegistryError';
import { RegistryIdentityAccess } from './RegistryIdentityAccess';
import { loadOrCreateSecret } from './secrets';
import { SelfOnboarding } from './SelfOnboarding';
import { SourceChecker } from './SourceChecker';

export type OnboardingServiceOptions = {
  config: Config['onboarding'];
  logger: Logger;
  /** Identities the registry does not know (the live runtime's config-backed demo identity). */
  fallbackAccess?: IdentityAccess;
};

export class OnboardingService {
  readonly config: Config['onboarding'];
  readonly registry: IdentityRegistry;
  readonly queue: JobQueue;
  readonly joinTokens: JoinTokens;
  /** Identities a participant may drive (the live avatar runtime asks this). */
  readonly access: RegistryIdentityAccess;
  /** The signalling join check; `joinAuthorizer.requester(roomId, peer)` gives IdentityAccess its requester. */
  readonly joinAuthorizer: JoinAuthorizer;
  readonly checker: SourceChecker;
  /** "Create my avatar" from the call page. */
  readonly self: SelfOnboarding;
  readonly #adminTokenHash: Buffer;
  readonly #log: Logger;
  #closed = false;

  private constructor(fields: {
    config: Config['onboarding'];
    registry: IdentityRegistry;
    queue: JobQueue;
    joinTokens: JoinTokens;
    access: RegistryIdentityAccess;
    adminToken: string;
    keySecret: string;
    logger: Logger;
  }) {
    this.config = fields.config;
    this.registry = fields.registry;
    this.queue = fields.queue;
    this.joinTokens = fields.joinTokens;
    this.access = fields.access;
    this.checker = new SourceChecker(fields.config);
    this.joinAuthorizer = new JoinAuthorizer(fields.joinTokens, fields.config);
    this.#adminTokenHash = sha256(fields.adminToken);
    this.#log = fields.logger;
    this.self = new SelfOnboarding(this, fields.keySecret, fields.logger);
  }

  /** Opens the registry, loads (or generates and prints) the secrets, and starts the queue. */
  static create(options: OnboardingServiceOptions): OnboardingService {
    const { config } = options;
    const log = options.logger.child({ component: 'onboarding' });
    const registry = IdentityRegistry.open(config.dataDir, log);
    const admin = loadOrCreateSecret(config.dataDir, 'admin-token', config.adminToken, 24);
    if (admin.source === 'generated') {
      // Shown once, on the terminal of whoever started the server; it is also in the file.
      console.log(`Admin token (generated, kept in ${admin.file}): ${admin.value}`);
    } else if (admin.source === 'file') {
      console.log(`Admin token: in ${admin.file} (ADMIN_TOKEN overrides it)`);
    }
    const joinSecret = loadOrCreateSecret(config.dataDir, 'join-token-secret', config.joinTokenSecret, 32);
    const queue = new JobQueue({ registry, config, logger: log });
    const access = new RegistryIdentityAccess({ registry, demo: config.demo, ...(options.fallbackAccess ? { fallback: options.fallbackAccess } : {}) });
    const service = new OnboardingService({ config, registry, queue, joinTokens: new JoinTokens(joinSecret.value), access, adminToken: admin.value, keySecret: joinSecret.value, logger: log });
    queue.start();
    return service;
  }

  /** Constant-time check of an admin bearer token. */
  isAdminToken(token: string | undefined): boolean {
    if (!token) return false;
    return timingSafeEqual(sha256(token), this.#adminTokenHash);
  }

  /**
   * Receives, checks and records an upload: content type, size, pixel dimensions, clip length and
   * codec, consent, exactly one big-enough face (the Python source check). Returns the new
   * identity and its queued job; throws RegistryError with the reason. A refused upload leaves
   * nothing behind.
   */
  async upload(
    req: IncomingMessage,
    actor: string,
    method: 'admin' | 'self' = 'admin',
    extra: { check?: (fields: z.infer<typeof uploadFieldsSchema>) => void } = {},
  ): Promise<UploadAccepted> {
    const received = await receiveUpload(req, { tmpDir: this.registry.layout.tmp, maxBytes: this.config.uploads.maxBytes });
    let tmp = received.file.path;
    try {
      let consent: unknown;
      try {
        consent = received.fields.consent === undefined ? undefined : JSON.parse(received.fields.consent);
      } catch {
        throw new RegistryError(400, 'BAD_CONSENT', 'The consent field must be JSON: {"subjectName","uploadedBy","statement","agreed":true}.');
      }
      const fields = uploadFieldsSchema.safeParse({
        displayName: received.fields.displayName,
        consent: consent && typeof consent === 'object' ? { ...consent, method } : consent,
        ...(received.fields.identityId ? { identityId: received.fields.identityId } : {}),
      });
      if (!fields.success) {
        const issue = fields.error.issues[0];
        const where = issue?.path.join('.') || 'body';
        const code = issue?.path[0] === 'consent' ? 'CONSENT_REQUIRED' : 'BAD_REQUEST';
        throw new RegistryError(400, code, `${where}: ${issue?.message ?? 'invalid'}`);
      }
      extra.check?.(fields.data);
      // Known before any content check (seconds of Python); createIdentity checks again, for two
      // uploads racing for the same id.
      if (fields.data.identityId && this.registry.identityRow(fields.data.identityId)) {
        throw new RegistryError(409, 'IDENTITY_EXISTS', `identity "${fields.data.identityId}" already exists`);
      }
      const media = await inspectUpload(tmp, this.config.uploads);
      // Name it by its content: the Python tools pick the image or video reader by extension.
      await rename(tmp, `${tmp}.${media.ext}`);
      tmp = `${tmp}.${media.ext}`;
      const check = await this.checker.check(tmp, received.file.filename || 'upload');
      if (check.kind !== media.kind) {
        throw new RegistryError(422, 'UNSUPPORTED_INPUT', `The file looks like a ${media.kind} but reads as a ${check.kind}.`);
      }
      const created = this.registry.createIdentity({
        displayName: fields.data.displayName,
        consent: fields.data.consent,
        actor,
        ...(fields.data.identityId ? { identityId: fields.data.identityId } : {}),
        source: {
          tmpPath: tmp,
          ext: media.ext,
          kind: media.kind,
          mime: media.mime,
          bytes: received.file.bytes,
          sha256: received.file.sha256,
          width: check.width,
          height: check.height,
          durationS: media.durationS,
          rotation: check.rotation,
        },
      });
      this.queue.pump();
      return created;
    } catch (error) {
      await rm(tmp, { force: true });
      if (error instanceof RegistryError) {
        this.registry.audit(actor, 'upload.refused', null, { code: error.code, message: error.message, bytes: received.file.bytes, sha256: received.file.sha256 });
      }
      throw error;
    }
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Idempotent: stops the queue (running jobs are left to resume) and closes the database. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.queue.close();
    this.registry.close();
    this.#log.info('onboarding service closed');
  }
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}
