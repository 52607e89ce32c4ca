import { describe, expect, it } from 'vitest';
import { openApiDocument } from './openApiDocument';

type Doc = { openapi: string; paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema: { required?: string[]; properties?: Record<string, unknown> } }> }> }>> };

describe('the onboarding OpenAPI document', () => {
  const doc = openApiDocument() as Doc;

  it('is OpenAPI 3.1 and describes the stable interfaces', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/api/identities', '/api/identities/{id}', '/api/identities/{id}/versions/{v}/publish', '/api/jobs/{id}', '/api/tokens']),
    );
    expect(Object.keys(doc.paths['/api/identities']!.post!.responses)).toEqual(expect.arrayContaining(['201', '400', '401', '413', '415', '422']));
  });

  it('takes GET /api/jobs/:id from the shared zod schema (state, progress 0..1, stage, error)', () => {
    const schema = doc.paths['/api/jobs/{id}']!.get!.responses['200']!.content!['application/json']!.schema;
    expect(schema.required).toEqual(expect.arrayContaining(['state', 'progress', 'stage']));
    expect(schema.properties).toMatchObject({
      state: { enum: ['queued', 'running', 'succeeded', 'failed', 'cancelled'] },
      progress: { minimum: 0, maximum: 1 },
      error: { type: 'object' },
    });
  });
});
