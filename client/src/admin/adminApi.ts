/**
 * The admin page's client of the onboarding REST API: every answer is parsed with the shared zod
 * schemas (@shared/onboarding), errors become `AdminApiError` with the server's code and words.
 * Authentication is the admin cookie set by `login()` (so <img>, <video> and EventSource work).
 */
import { z } from 'zod';
import {
  apiErrorSchema,
  auditEntrySchema,
  identityDetailSchema,
  identitySummarySchema,
  jobStatusSchema,
  joinTokenResponseSchema,
  uploadAcceptedSchema,
  type ConsentInput,
  type GrantInput,
  type JobStatus,
} from '@shared/onboarding';

export class AdminApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'AdminApiError';
  }
}

async function call<S extends z.ZodType>(schema: S | null, path: string, init: RequestInit = {}): Promise<z.infer<S>> {
  const res = await fetch(path, { credentials: 'same-origin', ...init });
  if (!res.ok) {
    const body = apiErrorSchema.safeParse(await res.json().catch(() => null));
    throw new AdminApiError(res.status, body.success ? body.data.error.code : 'HTTP_ERROR', body.success ? body.data.error.message : `${res.status} ${res.statusText}`);
  }
  if (schema === null || res.status === 204) return undefined as z.infer<S>;
  return schema.parse(await res.json());
}

const jsonInit = (method: string, body: unknown): RequestInit => ({ method, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });

export const adminApi = {
  /** Exchanges the admin token for the admin cookie. */
  login: (token: string) => call(null, '/api/admin/session', { method: 'POST', headers: { Authorization: `Bearer ${token}` } }),
  identities: () => call(z.object({ identities: z.array(identitySummarySchema) }), '/api/identities'),
  identity: (id: string) => call(identityDetailSchema, `/api/identities/${encodeURIComponent(id)}`),
  /** Upload with progress of the bytes sent (XHR: fetch has no upload progress). */
  upload(form: { file: File | Blob; fileName: string; displayName: string; consent: Omit<ConsentInput, 'method'> }, onProgress: (fraction: number) => void) {
    const body = new FormData();
    body.set('displayName', form.displayName);
    body.set('consent', JSON.stringify(form.consent));
    body.set('file', form.file, form.fileName);
    return new Promise<z.infer<typeof uploadAcceptedSchema>>((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open('POST', '/api/identities');
      xhr.upload.onprogress = (e) => e.lengthComputable && onProgress(e.loaded / e.total);
      xhr.onerror = () => reject(new AdminApiError(0, 'NETWORK', 'the upload failed: network error'));
      xhr.onload = () => {
        let json: unknown = null;
        try {
          json = JSON.parse(xhr.responseText);
        } catch {
          /* not JSON */
        }
        if (xhr.status === 201) return resolve(uploadAcceptedSchema.parse(json));
        const err = apiErrorSchema.safeParse(json);
        reject(new AdminApiError(xhr.status, err.success ? err.data.error.code : 'HTTP_ERROR', err.success ? err.data.error.message : `upload failed (${xhr.status})`));
      };
      xhr.send(body);
    });
  },
  retrain: (id: string) => call(jobStatusSchema, `/api/identities/${encodeURIComponent(id)}/jobs`, { method: 'POST' }),
  deleteIdentity: (id: string) => call(null, `/api/identities/${encodeURIComponent(id)}`, { method: 'DELETE' }),
  publish: (id: string, version: number, overrideReason?: string) =>
    call(identityDetailSchema, `/api/identities/${encodeURIComponent(id)}/versions/${version}/publish`, jsonInit('POST', overrideReason ? { override: { reason: overrideReason } } : {})),
  rollback: (id: string, toVersion?: number) => call(identityDetailSchema, `/api/identities/${encodeURIComponent(id)}/rollback`, jsonInit('POST', toVersion ? { toVersion } : {})),
  deleteVersion: (id: string, version: number) => call(null, `/api/identities/${encodeURIComponent(id)}/versions/${version}`, { method: 'DELETE' }),
  addGrant: (id: string, grant: GrantInput) => call(null, `/api/identities/${encodeURIComponent(id)}/grants`, jsonInit('POST', grant)),
  removeGrant: (id: string, grant: GrantInput) => call(null, `/api/identities/${encodeURIComponent(id)}/grants`, jsonInit('DELETE', grant)),
  job: (id: string) => call(jobStatusSchema, `/api/jobs/${encodeURIComponent(id)}`),
  cancelJob: (id: string) => call(jobStatusSchema, `/api/jobs/${encodeURIComponent(id)}/cancel`, { method: 'POST' }),
  retryJob: (id: string) => call(jobStatusSchema, `/api/jobs/${encodeURIComponent(id)}/retry`, { method: 'POST' }),
  issueToken: (body: { roomId: string; displayName: string; identities: string[]; ttlS: number }) => call(joinTokenResponseSchema, '/api/tokens', jsonInit('POST', body)),
  audit: (identityId: string) => call(z.object({ entries: z.array(auditEntrySchema) }), `/api/audit?identityId=${encodeURIComponent(identityId)}`),
};

/** Live job updates (server-sent events); returns a function that stops listening. */
export function watchJobs(onJob: (job: JobStatus) => void, onError: () => void): () => void {
  const source = new EventSource('/api/events');
  source.addEventListener('job', (event) => {
    const parsed = jobStatusSchema.safeParse(JSON.parse((event as MessageEvent<string>).data));
    if (parsed.success) onJob(parsed.data);
  });
  source.onerror = onError;
  return () => source.close();
}
