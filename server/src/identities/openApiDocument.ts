/**
 * The OpenAPI 3.1 document of the onboarding API, generated from the same zod schemas the server
 * parses with (@shared/onboarding) by @asteasolutions/zod-to-openapi. Served at /api/openapi.json.
 */
import { OpenAPIRegistry, OpenApiGeneratorV31 } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import {
  apiErrorSchema,
  auditEntrySchema,
  consentInputSchema,
  grantSchema,
  identityDetailSchema,
  identityIdSchema,
  identitySummarySchema,
  jobIdSchema,
  jobStatusSchema,
  joinTokenRequestSchema,
  joinTokenResponseSchema,
  publishRequestSchema,
  rollbackRequestSchema,
  selfUploadAcceptedSchema,
  uploadAcceptedSchema,
} from '@shared/onboarding';

let cached: object | undefined;

export function openApiDocument(): object {
  cached ??= build();
  return cached;
}

function build(): object {
  const r = new OpenAPIRegistry();
  const bearer = r.registerComponent('securitySchemes', 'adminToken', {
    type: 'http',
    scheme: 'bearer',
    description: 'The admin token (ADMIN_TOKEN, or the one printed at first start).',
  });
  const security = [{ [bearer.name]: [] }];
  // Schemas are inlined: the shared schemas are built before `extendZodWithOpenApi` could tag
  // them with ref ids (zod 4 puts methods on instances at construction).
  const ApiError = apiErrorSchema;
  const JobStatus = jobStatusSchema;
  const IdentityDetail = identityDetailSchema;
  const IdentityListItem = identitySummarySchema;
  const Consent = consentInputSchema;
  const Grant = grantSchema;
  const json = (schema: z.ZodType) => ({ 'application/json': { schema } });
  const errors = {
    400: { description: 'Bad request (the message names the field)', content: json(ApiError) },
    401: { description: 'Missing or wrong admin token', content: json(ApiError) },
    404: { description: 'No such identity, version or job', content: json(ApiError) },
  };
  /** What the upload checks refuse, on the admin's and on the self-onboarding upload alike. */
  const uploadErrors = {
    413: { description: 'Upload, image or clip too large', content: json(ApiError) },
    415: { description: 'Not an accepted image or video type or codec', content: json(ApiError) },
    422: { description: 'Refused: no face, several faces, face too small, clip too long, unreadable', content: json(ApiError) },
  };
  const idParams = z.object({ id: identityIdSchema });
  const versionParams = z.object({ id: identityIdSchema, v: z.coerce.number().int().positive() });
  const jobParams = z.object({ id: jobIdSchema });

  r.registerPath({
    method: 'post',
    path: '/api/identities',
    summary: 'Upload a portrait or clip with a consent record; starts a training job',
    security,
    request: {
      body: {
        content: {
          'multipart/form-data': {
            schema: z.object({
              file: z.string().describe('JPEG, PNG or WebP portrait, or MP4, WebM or MOV clip (≤ 60 s); binary'),
              displayName: z.string(),
              consent: z.string().describe(`JSON of Consent: ${JSON.stringify(z.toJSONSchema(consentInputSchema, { io: 'input' }).required)}`),
              identityId: identityIdSchema.optional(),
            }),
          },
        },
      },
    },
    responses: {
      201: { description: 'Accepted; the job is queued', content: json(uploadAcceptedSchema) },
      ...errors,
      ...uploadErrors,
    },
  });
  r.registerPath({ method: 'get', path: '/api/identities', summary: 'List identities', security, responses: { 200: { description: 'Identities', content: json(z.object({ identities: z.array(IdentityListItem) })) }, 401: errors[401] } });
  r.registerPath({ method: 'get', path: '/api/identities/{id}', summary: 'An identity: consent, source, versions with gate reports, grants, jobs', security, request: { params: idParams }, responses: { 200: { description: 'The identity', content: json(IdentityDetail) }, ...errors } });
  r.registerPath({ method: 'delete', path: '/api/identities/{id}', summary: 'Delete an identity and all its files', security, request: { params: idParams }, responses: { 204: { description: 'Deleted' }, 409: { description: 'A job is still queued or running', content: json(ApiError) }, ...errors } });
  r.registerPath({
    method: 'post',
    path: '/api/identities/{id}/versions/{v}/publish',
    summary: 'Publish a version (a version that failed its gates needs an override reason; audited)',
    security,
    request: { params: versionParams, body: { content: json(publishRequestSchema) } },
    responses: { 200: { description: 'The identity after publishing', content: json(IdentityDetail) }, 409: { description: 'GATES_FAILED', content: json(ApiError) }, ...errors },
  });
  r.registerPath({ method: 'delete', path: '/api/identities/{id}/versions/{v}', summary: 'Delete a version and its files', security, request: { params: versionParams }, responses: { 204: { description: 'Deleted' }, ...errors } });
  r.registerPath({ method: 'get', path: '/api/identities/{id}/versions/{v}/preview', summary: 'The version\'s side-by-side preview', security, request: { params: versionParams }, responses: { 200: { description: 'Image or video' }, ...errors } });
  r.registerPath({ method: 'get', path: '/api/identities/{id}/versions/{v}/report', summary: 'The version\'s gate report file', security, request: { params: versionParams }, responses: { 200: { description: 'The report as the trainer wrote it' }, ...errors } });
  r.registerPath({ method: 'post', path: '/api/identities/{id}/jobs', summary: 'Train again from the same source (a new version when it succeeds)', security, request: { params: idParams }, responses: { 201: { description: 'The queued job', content: json(JobStatus) }, 409: { description: 'JOB_ACTIVE: a job of this identity is queued or running', content: json(ApiError) }, ...errors } });
  r.registerPath({ method: 'post', path: '/api/identities/{id}/rollback', summary: 'Publish an earlier version', security, request: { params: idParams, body: { content: json(rollbackRequestSchema) } }, responses: { 200: { description: 'The identity after rollback', content: json(IdentityDetail) }, 409: { description: 'No earlier version', content: json(ApiError) }, ...errors } });
  r.registerPath({ method: 'post', path: '/api/identities/{id}/grants', summary: 'Let a room (and participant) drive the identity', security, request: { params: idParams, body: { content: json(Grant) } }, responses: { 201: { description: 'Granted', content: json(Grant) }, ...errors } });
  r.registerPath({ method: 'delete', path: '/api/identities/{id}/grants', summary: 'Revoke a grant', security, request: { params: idParams, body: { content: json(Grant) } }, responses: { 204: { description: 'Revoked' }, ...errors } });
  r.registerPath({ method: 'get', path: '/api/jobs', summary: 'All jobs in queue order', security, responses: { 200: { description: 'Jobs', content: json(z.object({ jobs: z.array(JobStatus) })) }, 401: errors[401] } });
  r.registerPath({ method: 'get', path: '/api/jobs/{id}', summary: 'A job\'s state and progress', security, request: { params: jobParams }, responses: { 200: { description: 'The job', content: json(JobStatus) }, ...errors } });
  r.registerPath({ method: 'post', path: '/api/jobs/{id}/cancel', summary: 'Cancel a queued or running job', security, request: { params: jobParams }, responses: { 200: { description: 'The job', content: json(JobStatus) }, 409: { description: 'Not cancellable', content: json(ApiError) }, ...errors } });
  r.registerPath({ method: 'post', path: '/api/jobs/{id}/retry', summary: 'Retry a failed or cancelled job (resumes from its checkpoint)', security, request: { params: jobParams }, responses: { 200: { description: 'The job', content: json(JobStatus) }, 409: { description: 'Not retryable', content: json(ApiError) }, ...errors } });
  r.registerPath({ method: 'get', path: '/api/jobs/{id}/log', summary: 'The training process\'s stderr', security, request: { params: jobParams }, responses: { 200: { description: 'text/plain' }, ...errors } });
  r.registerPath({ method: 'get', path: '/api/jobs/{id}/preview.png', summary: 'The latest preview frame', security, request: { params: jobParams }, responses: { 200: { description: 'image/png' }, ...errors } });
  r.registerPath({ method: 'get', path: '/api/events', summary: 'Server-sent events: `job` (JobStatus) on every job change', security, responses: { 200: { description: 'text/event-stream' }, 401: errors[401] } });
  r.registerPath({ method: 'post', path: '/api/tokens', summary: 'Issue a participant join token (JWT)', security, request: { body: { content: json(joinTokenRequestSchema) } }, responses: { 201: { description: 'The token', content: json(joinTokenResponseSchema) }, ...errors } });
  r.registerPath({ method: 'get', path: '/api/audit', summary: 'The audit log, newest first', security, request: { query: z.object({ identityId: identityIdSchema.optional() }) }, responses: { 200: { description: 'Entries', content: json(z.object({ entries: z.array(auditEntrySchema) })) }, 401: errors[401] } });
  r.registerPath({ method: 'get', path: '/api/openapi.json', summary: 'This document (no token)', responses: { 200: { description: 'OpenAPI 3.1 JSON' } } });
  r.registerPath({ method: 'post', path: '/api/admin/session', summary: 'Sets the admin cookie (for <img>, <video> and EventSource on the admin page)', security, responses: { 204: { description: 'Cookie set' }, 401: errors[401] } });

  // "Create my avatar": no admin token. A join token as bearer (required with SELF_ONBOARDING=token), or none with `open`.
  const keyQuery = z.object({ key: z.string().describe('The jobKey returned by the upload') });
  const selfErrors = {
    400: errors[400],
    401: { description: 'Bad join token (or none where one is required), or a wrong job key', content: json(ApiError) },
  };
  r.registerPath({
    method: 'post',
    path: '/api/self/identities',
    summary: 'Upload your own clip or portrait with your own consent (subjectName = uploadedBy); granted to you in the room, published when it passes its gates',
    request: {
      query: z.object({ room: z.string().optional().describe('Your room (without a join token; a token\'s room wins)') }),
      body: { content: { 'multipart/form-data': { schema: z.object({ file: z.string().describe('the clip or portrait; binary'), displayName: z.string(), consent: z.string().describe('JSON of Consent') }) } } },
    },
    responses: {
      201: { description: 'Accepted; the job is queued', content: json(selfUploadAcceptedSchema) },
      ...selfErrors,
      403: { description: 'Self-onboarding is off (SELF_ONBOARDING_OFF)', content: json(ApiError) },
      ...uploadErrors,
      429: { description: 'Too many self-onboarding jobs waiting or running (SELF_QUEUE_FULL)', content: json(ApiError) },
    },
  });
  r.registerPath({ method: 'get', path: '/api/self/jobs/{id}', summary: 'Your job\'s state and progress', request: { params: jobParams, query: keyQuery }, responses: { 200: { description: 'The job', content: json(JobStatus) }, ...selfErrors, 404: errors[404] } });
  r.registerPath({ method: 'get', path: '/api/self/jobs/{id}/events', summary: 'Server-sent events: `job` (JobStatus) on every change of your job', request: { params: jobParams, query: keyQuery }, responses: { 200: { description: 'text/event-stream' }, ...selfErrors, 404: errors[404] } });
  r.registerPath({ method: 'get', path: '/api/self/jobs/{id}/preview.png', summary: 'Your job\'s latest preview frame', request: { params: jobParams, query: keyQuery }, responses: { 200: { description: 'image/png' }, ...selfErrors, 404: errors[404] } });

  return new OpenApiGeneratorV31(r.definitions).generateDocument({
    openapi: '3.1.0',
    info: { title: 'avatar-call onboarding API', version: '1.0.0', description: 'Identities, uploads with consent, training jobs, gates and publishing, grants and join tokens.' },
  });
}
