/**
 * "Create my avatar": a participant onboards themselves from the call page. The upload goes
 * through the same checks as an admin's (`OnboardingService.upload`) with a consent record whose
 * subject is the uploader (`method: 'self'`); the new identity is granted to the person in their
 * room, they get a join token naming it and a key to watch their job (`jobKey`, an HMAC of the
 * job id), and the version is published automatically when it passes its gates.
 *
 * Who may: `selfOnboarding` = `open` (anyone; room = the caller's token room, else the room the
 * page says it is in, else the demo room),
 * `token` (a valid join token is required), `off`. At most `maxPendingSelfJobs` self jobs wait or
 * run at once (429 SELF_QUEUE_FULL), so an open server cannot be flooded with training.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { JobStatus, SelfUploadAccepted } from '@shared/onboarding';
import { roomIdSchema } from '@shared/signalling';
import type { Logger } from '../logger';
import { JoinTokenError, type JoinGrant } from './JoinTokens';
import type { OnboardingService } from './OnboardingService';
import { RegistryError } from './RegistryError';


export class SelfOnboarding {
  readonly #service: OnboardingService;
  readonly #keySecret: string;
  readonly #log: Logger;
  /**
   * Self uploads received or checked right now: each will become a pending job, so they count
   * against `maxPendingSelfJobs` with the queued and running ones (the check takes seconds).
   */
  #uploading = 0;

  constructor(service: OnboardingService, keySecret: string, logger: Logger) {
    this.#service = service;
    this.#keySecret = keySecret;
    this.#log = logger;
    service.queue.on('job', (job) => this.#autoPublish(job));
  }

  jobKey(jobId: string): string {
    return createHmac('sha256', this.#keySecret).update(`self-job:${jobId}`).digest('base64url');
  }

  checkJobKey(jobId: string, key: string | undefined): void {
    const want = Buffer.from(this.jobKey(jobId));
    const got = Buffer.from(key ?? '');
    if (got.length !== want.length || !timingSafeEqual(got, want)) throw new RegistryError(401, 'UNAUTHORIZED', 'this job key is not valid');
  }

  /** `requestedRoom`: the caller's room (used without a token, in `open` mode; a token's room wins). */
  async upload(req: IncomingMessage, requestedRoom?: string): Promise<SelfUploadAccepted> {
    const config = this.#service.config;
    if (config.selfOnboarding === 'off') throw new RegistryError(403, 'SELF_ONBOARDING_OFF', 'creating your own avatar is switched off on this server');
    const header = req.headers.authorization;
    const bearer = header?.startsWith('Bearer ') ? header.slice(7).trim() : undefined;
    let grant: JoinGrant | undefined;
    if (bearer) {
      try {
        grant = await this.#service.joinTokens.verify(bearer, undefined);
      } catch (error) {
        throw new RegistryError(401, 'UNAUTHORIZED', error instanceof JoinTokenError ? error.message : 'the join token is not valid');
      }
    } else if (config.selfOnboarding === 'token') {
      throw new RegistryError(401, 'UNAUTHORIZED', 'creating your own avatar needs the join token of your invitation');
    }
    const pending = this.#service.registry.db
      .prepare(`SELECT COUNT(*) AS n FROM jobs j JOIN consents c ON c.identity_id = j.identity_id WHERE c.method = 'self' AND j.state IN ('queued', 'running')`)
      .get() as { n: number };
    const busy = pending.n + this.#uploading;
    if (busy >= config.maxPendingSelfJobs) {
      throw new RegistryError(429, 'SELF_QUEUE_FULL', `${busy} avatars are being made already; try again in a few minutes`);
    }
    if (requestedRoom !== undefined && !roomIdSchema.safeParse(requestedRoom).success) {
      throw new RegistryError(400, 'BAD_REQUEST', 'room: a room id has only letters, digits, "_" and "-"');
    }
    // Counted from here (no await since the count above) until the upload is a job or refused.
    this.#uploading += 1;
    try {
      return await this.#accept(req, config, grant, requestedRoom);
    } finally {
      this.#uploading -= 1;
    }
  }

  async #accept(req: IncomingMessage, config: OnboardingService['config'], grant: JoinGrant | undefined, requestedRoom: string | undefined): Promise<SelfUploadAccepted> {
    const roomId = grant?.roomId ?? requestedRoom ?? config.demo.roomId;
    const accepted = await this.#service.upload(req, 'self', 'self', {
      check: (fields) => {
        if (fields.consent.subjectName !== fields.consent.uploadedBy) {
          throw new RegistryError(400, 'CONSENT_REQUIRED', 'consent.uploadedBy: for your own avatar, you are both the person shown and the uploader');
        }
        if (grant && grant.displayName !== fields.displayName) {
          throw new RegistryError(400, 'BAD_REQUEST', `displayName: your join token is for "${grant.displayName}"`);
        }
      },
    });
    const detail = this.#service.registry.getIdentity(accepted.identityId);
    this.#service.registry.addGrant(accepted.identityId, { roomId, participant: detail.displayName }, 'self');
    const { token } = await this.#service.joinTokens.issue({
      roomId,
      displayName: detail.displayName,
      identities: [...(grant?.identities ?? []), accepted.identityId],
      ttlS: 7 * 24 * 3600,
    });
    this.#log.info({ identityId: accepted.identityId, roomId }, 'self-onboarding upload accepted');
    return { ...accepted, jobKey: this.jobKey(accepted.jobId), token, roomId };
  }

  /** A self job that succeeded with passing gates is published for its person. */
  #autoPublish(job: JobStatus): void {
    if (job.state !== 'succeeded' || job.version === null) return;
    try {
      const registry = this.#service.registry;
      const detail = registry.getIdentity(job.identityId);
      if (detail.consent.method !== 'self' || detail.publishedVersion !== null) return;
      if (!registry.getVersion(job.identityId, job.version).manifest.gates.passed) return;
      registry.publish(job.identityId, job.version, 'self');
    } catch (error) {
      this.#log.warn({ err: error, jobId: job.id }, 'self-onboarding auto-publish failed');
    }
  }
}
