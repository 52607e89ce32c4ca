/**
 * The training queue with the real student CLI (a tiny real training: `--steps 20 --preset fast`
 * on s0.jpg): progress pushed over SSE, a version with its gate report, publish and grants; a
 * killed training process → failed with its reason → retry resumes from the checkpoint; cancel;
 * and a server killed mid-job (a real `tsx server/src/main.ts` process, SIGKILL) resuming the
 * job at restart, with one version at the end.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobStatusSchema, type JobStatus } from '@shared/onboarding';
import type { AvatarServer } from '../AvatarServer';
import { onboardingInputs, type OnboardingInputs } from '../testing/onboardingInputs';
import { startTestServer } from '../testing/startTestServer';
import { studentCliMissing, studentModelsRoot, testPythonConfig } from '../testing/studentCli';
import { processAlive, processStartTime } from './pythonCommand';

const ADMIN = 'jobs-test-admin-token-0123456789';
const consent = { subjectName: 'Sam Zero', uploadedBy: 'Operator One', statement: 'Sam agreed to an avatar of their face.', agreed: true };
const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));
const auth = { Authorization: `Bearer ${ADMIN}` };

let inputs: OnboardingInputs;
beforeAll(async () => {
  inputs = await onboardingInputs();
});

async function upload(baseUrl: string, file: string, displayName = 'Sam Zero'): Promise<{ identityId: string; jobId: string }> {
  const form = new FormData();
  form.set('displayName', displayName);
  form.set('consent', JSON.stringify(consent));
  form.set('file', new Blob([readFileSync(file)]), 'portrait.jpg');
  const res = await fetch(`${baseUrl}/api/identities`, { method: 'POST', body: form, headers: auth });
  const body = await res.json();
  expect(res.status, JSON.stringify(body)).toBe(201);
  return body;
}

async function getJob(baseUrl: string, jobId: string): Promise<JobStatus> {
  return jobStatusSchema.parse(await (await fetch(`${baseUrl}/api/jobs/${jobId}`, { headers: auth })).json());
}

/** Resolves with the first `job` event of `jobId` that satisfies `until`; collects all of them. */
function watchJob(server: AvatarServer, jobId: string, until: (s: JobStatus) => boolean, seen: JobStatus[] = []): Promise<JobStatus> {
  return new Promise((resolve) => {
    const current = server.onboarding.queue.status(jobId);
    if (until(current)) return resolve(current);
    const on = (s: JobStatus) => {
      if (s.id !== jobId) return;
      seen.push(s);
      if (until(s)) {
        server.onboarding.queue.off('job', on);
        resolve(s);
      }
    };
    server.onboarding.queue.on('job', on);
  });
}

const ended = (s: JobStatus) => s.state === 'succeeded' || s.state === 'failed' || s.state === 'cancelled';
/** Past the first checkpoint (every 10 steps with --steps 20). */
const pastCheckpoint = (s: JobStatus) => ended(s) || (s.stage === 'train' && (s.step?.step ?? 0) >= 12);

describe.skipIf(studentCliMissing)('training jobs (real CLI)', () => {
  let server: AvatarServer;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'jobs-test-'));
    server = await startTestServer({ onboarding: { dataDir, adminToken: ADMIN, jobConcurrency: 1, python: testPythonConfig() } });
  });
  afterAll(async () => {
    await server?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('trains a portrait to a version, pushing progress live over SSE, then publishes it', async () => {
    const { identityId, jobId } = await upload(server.url, inputs.portrait);
    const sse = await fetch(`${server.url}/api/events`, { headers: auth });
    expect(sse.headers.get('content-type')).toMatch(/text\/event-stream/);
    const pushed: JobStatus[] = [];
    const reader = sse.body!.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    while (!pushed.some(ended)) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      let cut: number;
      while ((cut = buffer.indexOf('\n\n')) >= 0) {
        const frame = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        const data = frame.split('\n').find((l) => l.startsWith('data: '));
        if (frame.includes('event: job') && data) {
          const s = jobStatusSchema.parse(JSON.parse(data.slice(6)));
          if (s.id === jobId) pushed.push(s);
        }
      }
    }
    await reader.cancel();
    const final = pushed.at(-1)!;
    expect(final, JSON.stringify(final.error)).toMatchObject({ state: 'succeeded', progress: 1, version: 1 });
    const progress = pushed.map((s) => s.progress);
    expect(progress).toEqual([...progress].sort((a, b) => a - b)); // never goes backwards
    expect(pushed.map((s) => s.stage)).toContain('train');
    expect(pushed.filter((s) => s.state === 'running').length).toBeGreaterThan(10);
    expect(await getJob(server.url, jobId)).toMatchObject({ state: 'succeeded', progress: 1 });

    const detail = await (await fetch(`${server.url}/api/identities/${identityId}`, { headers: auth })).json();
    expect(detail.versionList).toHaveLength(1);
    const v = detail.versionList[0];
    expect(v.gates.metrics).toBeTypeOf('object');
    expect(Object.keys(v.gates.metrics).length).toBeGreaterThan(0);
    const preview = await fetch(`${server.url}${v.previewUrl}`, { headers: auth });
    expect(preview.status).toBe(200);
    expect((await preview.arrayBuffer()).byteLength).toBeGreaterThan(1000);

    const publish = await fetch(`${server.url}/api/identities/${identityId}/versions/1/publish`, {
      method: 'POST',
      headers: { ...auth, 'Content-Type': 'application/json' },
      body: v.gates.passed ? '{}' : JSON.stringify({ override: { reason: 'tiny 20-step test training, gates not expected' } }),
    });
    expect(publish.status).toBe(200);
    expect((await publish.json()).publishedVersion).toBe(1);
  }, 600_000);

  it('fails a job whose training process is killed, with the reason, and succeeds on retry from its checkpoint', async () => {
    const { jobId } = await upload(server.url, inputs.portrait, 'Killed Worker');
    await watchJob(server, jobId, pastCheckpoint);
    const row = server.onboarding.registry.jobs.get(jobId)!;
    expect(row.child_pid).toBeGreaterThan(0);
    process.kill(row.child_pid!, 'SIGKILL');
    const failed = await watchJob(server, jobId, ended);
    expect(failed.state).toBe('failed');
    expect(failed.error).toMatchObject({ code: 'WORKER_KILLED', message: expect.stringMatching(/killed by SIGKILL/) });
    expect((await getJob(server.url, jobId)).state).toBe('failed');

    const retry = await fetch(`${server.url}/api/jobs/${jobId}/retry`, { method: 'POST', headers: auth });
    expect(retry.status).toBe(200);
    const done = await watchJob(server, jobId, ended);
    expect(done, JSON.stringify(done.error)).toMatchObject({ state: 'succeeded', attempts: 2, version: 1 });
    const log = readFileSync(server.onboarding.registry.layout.jobLog(jobId), 'utf8');
    expect(log).toMatch(/resumed at step 1\d/);
  }, 600_000);

  it('cancels a running job and stops its process', async () => {
    const { jobId } = await upload(server.url, inputs.portrait, 'Cancelled');
    await watchJob(server, jobId, (s) => s.state === 'running' && s.stage !== null);
    // Training again while this job runs is refused (a double click must not train twice).
    const identityId = server.onboarding.registry.jobs.get(jobId)!.identity_id;
    const again = await fetch(`${server.url}/api/identities/${identityId}/jobs`, { method: 'POST', headers: auth });
    expect(again.status).toBe(409);
    expect(await again.json()).toMatchObject({ error: { code: 'JOB_ACTIVE' } });
    expect(server.onboarding.registry.jobs.list({ identityId })).toHaveLength(1);
    const pid = server.onboarding.registry.jobs.get(jobId)!.child_pid!;
    const start = processStartTime(pid);
    const res = await fetch(`${server.url}/api/jobs/${jobId}/cancel`, { method: 'POST', headers: auth });
    expect(res.status).toBe(200);
    const end = await watchJob(server, jobId, ended);
    expect(end).toMatchObject({ state: 'cancelled', error: { code: 'CANCELLED' } });
    expect(processAlive(pid, start)).toBe(false);
    expect((await fetch(`${server.url}/api/jobs/${jobId}/cancel`, { method: 'POST', headers: auth })).status).toBe(409);
  });
});

describe.skipIf(studentCliMissing)('a server killed mid-job', () => {
  let dataDir: string;
  let child: ChildProcess | undefined;

  async function startServerProcess(): Promise<{ proc: ChildProcess; url: string }> {
    // node itself (not the tsx wrapper, which would take the SIGKILL in the server's place).
    const proc = spawn(process.execPath, ['--import', 'tsx', 'server/src/main.ts'], {
      cwd: repoRoot,
      env: {
        ...process.env,
        HOST: '127.0.0.1',
        PORT: '0',
        NUM_WORKERS: '1',
        LOG_LEVEL: 'warn',
        DATA_DIR: dataDir,
        ADMIN_TOKEN: ADMIN,
        TRAIN_PYTHONPATH: studentModelsRoot,
        TRAIN_CWD: studentModelsRoot,
        TRAIN_ARGS: '--steps 20 --preset fast',
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    child = proc;
    let out = '';
    const url = await new Promise<string>((resolve, reject) => {
      proc.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /Demo room: http:\/\/[^:]+:(\d+)\//.exec(out);
        if (m) resolve(`http://127.0.0.1:${m[1]}`);
      });
      proc.once('exit', (code) => reject(new Error(`server exited with ${code}: ${out}`)));
    });
    return { proc, url };
  }

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'jobs-restart-test-'));
  });
  afterAll(async () => {
    if (child && child.exitCode === null) {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
    await rm(dataDir, { recursive: true, force: true });
  });

  it('resumes the job from its checkpoint at restart and finishes with one version, never running it twice', async () => {
    const first = await startServerProcess();
    const { identityId, jobId } = await upload(first.url, inputs.portrait, 'Restarted');
    // Wait until training is past its first checkpoint (step 10 of 20).
    let status: JobStatus;
    for (;;) {
      status = await getJob(first.url, jobId);
      if (status.state !== 'queued' && status.state !== 'running') break;
      if (pastCheckpoint(status)) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(status.state).toBe('running');
    first.proc.kill('SIGKILL');
    await once(first.proc, 'exit');

    // The training process outlived its server (its own process group): the restart must stop it.
    const { default: Database } = await import('better-sqlite3');
    const db = new Database(join(dataDir, 'registry.sqlite'), { readonly: true });
    const orphan = db.prepare('SELECT child_pid, child_start, state FROM jobs WHERE id = ?').get(jobId) as { child_pid: number; child_start: string; state: string };
    db.close();
    expect(orphan.state).toBe('running');

    const second = await startServerProcess();
    expect(processAlive(orphan.child_pid, orphan.child_start)).toBe(false);
    let final: JobStatus;
    for (;;) {
      final = await getJob(second.url, jobId);
      if (final.state !== 'queued' && final.state !== 'running') break;
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(final, JSON.stringify(final.error)).toMatchObject({ state: 'succeeded', attempts: 2, version: 1 });
    const detail = await (await fetch(`${second.url}/api/identities/${identityId}`, { headers: auth })).json();
    expect(detail.versionList.map((v: { version: number }) => v.version)).toEqual([1]);
    const log = readFileSync(join(dataDir, 'jobs', jobId, 'job.log'), 'utf8');
    expect(log).toMatch(/resumed at step \d+/);
    expect(existsSync(join(dataDir, 'identities', identityId, 'versions', jobId, 'manifest.json'))).toBe(true);
    second.proc.kill('SIGTERM');
    await once(second.proc, 'exit');
  }, 600_000);
});
