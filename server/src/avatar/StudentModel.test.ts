import { createHash } from 'node:crypto';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { StudentLoadError, StudentModel, StudentUnavailableError } from './StudentModel';
import { StudentModelRegistry } from './StudentModelRegistry';
import { chooseStudentFile } from './studentFile';
import { testStudent } from './testStudent';

const logger = pino({ level: 'silent' });
const inference = { executionProvider: 'cpu' as const, precision: 'float32' as const, intraOpThreads: 1, interOpThreads: 1, workersPerModel: 2, restartDelayMs: 50 };
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A temporary student folder (removed after the test) holding a copy of the demo's float model only. */
function floatOnlyCopy(): { dir: string; copy: string } {
  const dir = mkdtempSync(join(tmpdir(), 'student-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const copy = join(dir, 'student.onnx');
  copyFileSync(testStudent().modelPath, copy);
  return { dir, copy };
}

function shifted(landmarks: Float32Array, dx: number): Float32Array {
  return landmarks.map((v, i) => (i % 3 === 0 ? v + dx : v));
}

describe('StudentModel', () => {
  it('renders S×S×3 frames that depend on the landmarks, off the main thread', async () => {
    const { manifest, modelPath } = testStudent();
    const model = await StudentModel.load({ modelPath, manifest, ...inference, logger });
    cleanups.push(() => model.close());
    const neutral = Float32Array.from(manifest.identity.neutralLandmarks);
    const a = await model.render(neutral);
    const b = await model.render(shifted(neutral, 0.05));
    const s = manifest.model.outputSize;
    expect(a.frame.length).toBe(s * s * 3);
    expect(a.inferenceMs).toBeGreaterThan(0);
    let differing = 0;
    for (let i = 0; i < a.frame.length; i += 1) if (a.frame[i] !== b.frame[i]) differing += 1;
    expect(differing).toBeGreaterThan(100);
  });

  it('keeps concurrent renders on two workers apart: each answer is the frame of its own landmarks', async () => {
    const { manifest, modelPath } = testStudent();
    const model = await StudentModel.load({ modelPath, manifest, ...inference, logger });
    model.setDemand(2);
    await expect.poll(() => model.workers).toBe(2);
    cleanups.push(() => model.close());
    const neutral = Float32Array.from(manifest.identity.neutralLandmarks);
    const inputs = [0, 0.04, -0.04, 0.02, -0.02, 0.06].map((dx) => shifted(neutral, dx));
    const alone: Uint8Array[] = [];
    for (const input of inputs) alone.push((await model.render(input)).frame);
    const together = await Promise.all(inputs.map((input) => model.render(input)));
    together.forEach((r, i) => expect(Buffer.compare(Buffer.from(r.frame), Buffer.from(alone[i]!))).toBe(0));
  });

  it('restarts a crashed worker and renders again within 2 s', async () => {
    const { manifest, modelPath } = testStudent();
    const model = await StudentModel.load({ modelPath, manifest, ...inference, logger });
    cleanups.push(() => model.close());
    const neutral = Float32Array.from(manifest.identity.neutralLandmarks);
    const crashedAt = performance.now();
    const crashed = once(model, 'crashed');
    model.crashForTest();
    await crashed;
    await expect(model.render(neutral)).rejects.toBeInstanceOf(StudentUnavailableError);
    await once(model, 'restarted');
    await model.render(neutral);
    expect(performance.now() - crashedAt).toBeLessThan(2000);
    expect(model.restarts).toBe(1);
  });

  it('refuses a corrupted ONNX file with a clear error', async () => {
    const { manifest } = testStudent();
    const dir = mkdtempSync(join(tmpdir(), 'student-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const modelPath = join(dir, 'student.onnx');
    writeFileSync(modelPath, Buffer.from('this is not an onnx model'));
    await expect(StudentModel.load({ modelPath, manifest, ...inference, logger })).rejects.toThrow(StudentLoadError);
  });
});

describe('StudentModelRegistry', () => {
  it('shares one model between holders and closes it with the last', async () => {
    const { manifest, modelPath } = testStudent();
    const registry = new StudentModelRegistry({ inference, logger });
    cleanups.push(() => registry.close());
    const [a, b] = await Promise.all([registry.acquire(modelPath, manifest), registry.acquire(modelPath, manifest)]);
    expect(a).toBe(b);
    expect(registry.size).toBe(1);
    // one InferenceSession (worker) per sharing session, up to workersPerModel (2)
    await expect.poll(() => a.workers).toBe(2);
    const c = await registry.acquire(modelPath, manifest);
    await new Promise((r) => setTimeout(r, 300));
    expect(c.workers).toBe(2);
    await registry.release(c);
    expect(c.workers).toBe(2);
    await registry.release(a);
    expect(a.closed).toBe(false);
    // one holder left: the idle second worker is retired
    await expect.poll(() => a.workers).toBe(1);
    await a.render(Float32Array.from(manifest.identity.neutralLandmarks));
    await registry.release(b);
    expect(a.closed).toBe(true);
    expect(registry.size).toBe(0);
  });

  it('renders the int8 variant on the CPU when asked and the manifest has one; float otherwise', async () => {
    const { manifest, modelPath, dir } = testStudent();
    expect(manifest.model.int8, 'the demo student ships an int8 variant').toBeDefined();
    const int8 = new StudentModelRegistry({ inference: { ...inference, precision: 'int8' }, logger });
    const float = new StudentModelRegistry({ inference, logger });
    cleanups.push(() => int8.close(), () => float.close());
    const q = await int8.acquire(modelPath, manifest);
    const f = await float.acquire(modelPath, manifest);
    expect(q.modelPath).toBe(join(dir, manifest.model.int8!.file));
    expect(q.precision).toBe('int8');
    expect(f.modelPath).toBe(modelPath);
    expect(f.precision).toBe('float32');
    // CUDA renders float (it would fail to load here without CUDA: only the choice is checked)
    await expect(chooseStudentFile(modelPath, manifest, { precision: 'int8', executionProvider: 'cuda' }, logger)).resolves.toEqual({ path: modelPath, precision: 'float32' });
    // same picture within the manifest's stated parity
    const neutral = Float32Array.from(manifest.identity.neutralLandmarks);
    const a = (await q.render(neutral)).frame;
    const b = (await f.render(neutral)).frame;
    let worst = 0;
    let sum = 0;
    for (let i = 0; i < a.length; i += 1) {
      const d = Math.abs(a[i]! - b[i]!);
      worst = Math.max(worst, d);
      sum += d;
    }
    expect(sum / a.length).toBeLessThanOrEqual(manifest.model.int8!.parity.meanAbsDiff * 2 + 0.5);
    expect(worst).toBeLessThanOrEqual(Math.max(manifest.model.int8!.parity.maxAbsDiff * 2, 16));
    expect(sum).toBeGreaterThan(0); // a different graph really ran
  });

  it('falls back to the float file when the int8 variant is missing or altered', async () => {
    const { manifest } = testStudent();
    const { dir, copy } = floatOnlyCopy();
    const warnings: string[] = [];
    const spy = pino({ level: 'warn' }, { write: (line: string) => warnings.push(line) });
    const choice = { precision: 'int8' as const, executionProvider: 'cpu' as const };
    await expect(chooseStudentFile(copy, manifest, choice, spy)).resolves.toEqual({ path: copy, precision: 'float32' });
    writeFileSync(join(dir, manifest.model.int8!.file), Buffer.from('not the quantised model'));
    await expect(chooseStudentFile(copy, manifest, choice, spy)).resolves.toEqual({ path: copy, precision: 'float32' });
    expect(warnings).toHaveLength(2);
    expect(warnings[1]).toMatch(/int8 student variant unusable/);
    expect(warnings[1]).toMatch(/sha256/);
  });

  it('renders the float file when the int8 variant passes its sha256 check but does not load', async () => {
    const { manifest } = testStudent();
    const { dir, copy } = floatOnlyCopy();
    const garbage = Buffer.from('not an onnx model at all');
    writeFileSync(join(dir, manifest.model.int8!.file), garbage);
    const broken = { ...manifest, model: { ...manifest.model, int8: { ...manifest.model.int8!, sha256: createHash('sha256').update(garbage).digest('hex') } } };
    const warnings: string[] = [];
    const spy = pino({ level: 'warn' }, { write: (line: string) => warnings.push(line) });
    const registry = new StudentModelRegistry({ inference: { ...inference, precision: 'int8' }, logger: spy });
    cleanups.push(() => registry.close());
    const model = await registry.acquire(copy, broken);
    expect(model.modelPath).toBe(copy);
    expect(model.precision).toBe('float32');
    expect((await model.render(Float32Array.from(manifest.identity.neutralLandmarks))).frame.length).toBe(manifest.model.outputSize ** 2 * 3);
    expect(warnings.some((w) => /int8 student variant failed to load/.test(w))).toBe(true);
    expect(registry.size).toBe(1); // the failed int8 load is not cached
    await registry.release(model);
    expect(registry.size).toBe(0);
  });
});
