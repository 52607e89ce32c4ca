/**
 * The onboarding REST API's bodies (server/src/identities/, client/src/admin/): one schema per
 * body, parsed by the server on the way in and by the admin page on the way back. The OpenAPI
 * document at `/api/openapi.json` is generated from these same schemas.
 */
import { z } from 'zod';
import { gateMetricSchema } from '../student/studentManifest.js';
import { trainingStageSchema } from '../student/trainingProgress.js';

/** Text a person typed: no control characters (tab and newline allowed in statements). */
const plainText = (max: number, multiline = false) =>
  z
    .string()
    .trim()
    .min(1, 'must not be empty')
    .max(max, `at most ${max} characters`)
    .refine((s) => !(multiline ? /[\u0000-\u0008\u000b-\u001f\u007f]/ : /[\u0000-\u001f\u007f]/).test(s), 'must not contain control characters');

export const identityIdSchema = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[a-z0-9][a-z0-9_-]*$/, 'identity id may contain only lowercase letters, digits, "_" and "-"');
export const jobIdSchema = z.string().regex(/^job_[a-z0-9]{12,32}$/, 'a job id (job_…)');

/**
 * The consent record that must come with every upload: who the person in the picture is, who
 * uploaded it, and the person's statement of agreement (kept verbatim, shown in the admin UI).
 */
export const consentInputSchema = z.object({
  /** The person whose face this is. */
  subjectName: plainText(128),
  /** Who uploads it (an operator's name, or the person themselves). */
  uploadedBy: plainText(128),
  /** What the person agreed to, in their words or the form's words. */
  statement: plainText(2000, true),
  /** The person agreed; anything but `true` is refused. */
  agreed: z.literal(true, { message: 'consent must be given (agreed: true)' }),
  /** `admin`: recorded by an operator; `self`: the person onboarded themselves. */
  method: z.enum(['admin', 'self']).default('admin'),
});
export type ConsentInput = z.infer<typeof consentInputSchema>;

export const consentRecordSchema = consentInputSchema.extend({
  recordedAt: z.string(),
});
export type ConsentRecord = z.infer<typeof consentRecordSchema>;

export const uploadFieldsSchema = z.object({
  displayName: plainText(64),
  consent: consentInputSchema,
  /** Optional id to give the identity (e.g. `demo`); default: made from the display name. */
  identityId: identityIdSchema.optional(),
});

export const uploadAcceptedSchema = z.object({ identityId: identityIdSchema, jobId: jobIdSchema });
export type UploadAccepted = z.infer<typeof uploadAcceptedSchema>;

/**
 * `POST /api/self/identities` ("Create my avatar") → 201: the upload's job, the key that opens
 * that job's progress (`/api/self/jobs/:id?key=`), and a join token naming the new identity.
 */
export const selfUploadAcceptedSchema = uploadAcceptedSchema.extend({ jobKey: z.string().min(1), token: z.string().min(1), roomId: z.string().min(1) });
export type SelfUploadAccepted = z.infer<typeof selfUploadAcceptedSchema>;

export const apiErrorSchema = z.object({ error: z.object({ code: z.string(), message: z.string() }) });
export type ApiError = z.infer<typeof apiErrorSchema>;

export const JOB_STATES = ['queued', 'running', 'succeeded', 'failed', 'cancelled'] as const;
export const jobStateSchema = z.enum(JOB_STATES);
export type JobState = z.infer<typeof jobStateSchema>;

/** `GET /api/jobs/:id` and every SSE `job` event. */
export const jobStatusSchema = z.object({
  id: jobIdSchema,
  identityId: identityIdSchema,
  state: jobStateSchema,
  /** Whole job, 0..1 (the CLI's `overall`). */
  progress: z.number().min(0).max(1),
  /** Training stage of the latest progress event; null before the first one. */
  stage: trainingStageSchema.nullable(),
  /** Step within that stage (e.g. training step 120 of 300); null before the first event. */
  step: z.object({ step: z.number().int().min(0), total: z.number().int().min(0) }).nullable(),
  /** Seconds left, as the CLI estimates it; null while unknown. */
  etaS: z.number().min(0).nullable(),
  loss: z.number().nullable(),
  /** Set when state is `failed` (or `cancelled`): code and plain-words reason. */
  error: z.object({ code: z.string(), message: z.string() }).optional(),
  attempts: z.number().int().min(0),
  /** Position among queued jobs (0 = next), null when not queued. */
  queuePosition: z.number().int().min(0).nullable(),
  /** URL of the latest preview frame (PNG), null before the first. */
  previewUrl: z.string().nullable(),
  /** Version produced by a succeeded job. */
  version: z.number().int().positive().nullable(),
  createdAt: z.string(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
});
export type JobStatus = z.infer<typeof jobStatusSchema>;

export const gateReportSchema = z.object({
  passed: z.boolean(),
  evaluatedOn: z.string(),
  metrics: z.record(z.string(), gateMetricSchema),
});
export type GateReport = z.infer<typeof gateReportSchema>;

export const versionInfoSchema = z.object({
  version: z.number().int().positive(),
  createdAt: z.string(),
  jobId: jobIdSchema.nullable(),
  gates: gateReportSchema,
  published: z.boolean(),
  /** Why a version that failed its gates was published anyway (admin override). */
  overrideReason: z.string().nullable(),
  previewUrl: z.string().nullable(),
  reportUrl: z.string().nullable(),
  model: z.object({ outputSize: z.number().int(), params: z.number().int(), flopsPerFrame: z.number().int() }),
  training: z.object({ steps: z.number().int(), wallTimeS: z.number() }),
});
export type VersionInfo = z.infer<typeof versionInfoSchema>;

export const grantSchema = z.object({
  /** Room whose participants may drive the identity (`*` = any room). */
  roomId: z.union([z.literal('*'), z.string().regex(/^[A-Za-z0-9_-]{1,64}$/)]),
  /** Display name the join token must carry (`*` = anyone holding a token naming the identity). */
  participant: z.union([z.literal('*'), plainText(64)]).default('*'),
});
export type GrantInput = z.input<typeof grantSchema>;
export type Grant = z.infer<typeof grantSchema> & { createdAt: string };

export const sourceInfoSchema = z.object({
  kind: z.enum(['portrait', 'clip']),
  mime: z.string(),
  bytes: z.number().int(),
  width: z.number().int(),
  height: z.number().int(),
  durationS: z.number().nullable(),
  rotation: z.number().int(),
});

export const identitySummarySchema = z.object({
  id: identityIdSchema,
  displayName: z.string(),
  createdAt: z.string(),
  publishedVersion: z.number().int().positive().nullable(),
  versions: z.number().int().min(0),
  latestJob: jobStatusSchema.nullable(),
});
export type IdentityListItem = z.infer<typeof identitySummarySchema>;

export const identityDetailSchema = identitySummarySchema.extend({
  consent: consentRecordSchema,
  source: sourceInfoSchema,
  versionList: z.array(versionInfoSchema),
  grants: z.array(grantSchema.extend({ createdAt: z.string() })),
  jobs: z.array(jobStatusSchema),
});
export type IdentityDetail = z.infer<typeof identityDetailSchema>;

export const publishRequestSchema = z
  .object({
    /** Required to publish a version that failed its gates; audited. */
    override: z.object({ reason: plainText(2000, true).pipe(z.string().min(10, 'the override reason must say why (10+ characters)')) }).optional(),
  })
  .default({});

export const rollbackRequestSchema = z.object({
  /** The version to go back to; default: the one published before the current one. */
  toVersion: z.number().int().positive().optional(),
}).default({});

export const joinTokenRequestSchema = z.object({
  roomId: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/),
  displayName: plainText(64),
  identities: z.array(identityIdSchema).max(32).default([]),
  /** Lifetime in seconds (default 1 h, at most 7 days). */
  ttlS: z.number().int().min(1).max(7 * 24 * 3600).default(3600),
});
export const joinTokenResponseSchema = z.object({ token: z.string(), expiresAt: z.string() });

export const auditEntrySchema = z.object({
  id: z.number().int(),
  at: z.string(),
  actor: z.string(),
  action: z.string(),
  identityId: z.string().nullable(),
  detail: z.record(z.string(), z.unknown()),
});
export type AuditEntry = z.infer<typeof auditEntrySchema>;
