import { describe, expect, it } from 'vitest';
import { faceApiJobOutputSchema, faceApiJobSchema } from './faceApiJob';

const image = { id: 'a', width: 2, height: 1, rgbBase64: 'AAAAAAAA', task: 'descriptor' };

describe('face-api reference job', () => {
  it('defaults to the cpu backend and a 0.5 detection threshold', () => {
    const job = faceApiJobSchema.parse({ modelDir: '/m', images: [image] });
    expect(job.backend).toBe('cpu');
    expect(job.minConfidence).toBe(0.5);
  });

  it('rejects an unknown task, a non-positive size and an empty image list', () => {
    expect(faceApiJobSchema.safeParse({ modelDir: '/m', images: [{ ...image, task: 'paint' }] }).success).toBe(false);
    expect(faceApiJobSchema.safeParse({ modelDir: '/m', images: [{ ...image, width: 0 }] }).success).toBe(false);
    expect(faceApiJobSchema.safeParse({ modelDir: '/m', images: [] }).success).toBe(false);
  });

  it('accepts a detect result without a face but not a short descriptor', () => {
    const ok = { backend: 'wasm', results: [{ id: 'a', task: 'detect', face: null }] };
    expect(faceApiJobOutputSchema.parse(ok).results).toHaveLength(1);
    const bad = { backend: 'cpu', results: [{ id: 'a', task: 'descriptor', descriptor: [0, 1] }] };
    expect(faceApiJobOutputSchema.safeParse(bad).success).toBe(false);
  });
});
