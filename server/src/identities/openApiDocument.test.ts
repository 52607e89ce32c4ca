import { describe, expect, it } from 'vitest';
import type { OnboardingService } from './OnboardingService';
import { onboardingRoutes } from './onboardingRoutes';
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

describe('the OpenAPI document and the routes', () => {
  it('documents every route the onboarding router serves (method and path)', () => {
    const doc = openApiDocument() as Doc;
    // Building the router touches no service; its handlers are never called here.
    const router = onboardingRoutes({} as OnboardingService) as unknown as { stack: { route?: { path: string; methods: Record<string, boolean> } }[] };
    const served = router.stack
      .flatMap((layer) => (layer.route ? Object.keys(layer.route.methods).map((m) => `${m.toUpperCase()} /api${layer.route!.path.replace(/:(\w+)/g, '{$1}')}`) : []))
      .sort();
    const documented = Object.entries(doc.paths).flatMap(([path, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${path}`));
    expect(served.filter((route) => !documented.includes(route))).toEqual([]);
  });
});
