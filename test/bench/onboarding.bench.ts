/**
 * Onboarding time from upload to published, on this machine, for a portrait (s0.jpg) and a 20 s
 * clip (d10.mp4 forwards then backwards): a real server in-process, the real training CLI, the
 * default config (or `--preset fast|default`, `--steps N`). Prints one row per source with the
 * phases: upload + checks (until 201), queue wait, training (to `succeeded`), publish; and the
 * load average, since the machine is shared.
 *
 *   npm run bench:onboarding -- [--preset default] [--steps N] [--only portrait|clip]
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';
import { jobStatusSchema, type JobStatus } from '@shared/onboarding';
import { onboardingInputs } from '../../server/src/testing/onboardingInputs';
import { startTestServer } from '../../server/src/testing/startTestServer';
import { studentCliMissing, testPythonConfig } from '../../server/src/testing/studentCli';

const { values } = parseArgs({ options: { preset: { type: 'string', default: 'default' }, steps: { type: 'string' }, only: { type: 'string' } } });
if (studentCliMissing) throw new Error(studentCliMissing);
const ADMIN = 'bench-admin-token-0123456789abcdef';
const auth = { Authorization: `Bearer ${ADMIN}` };
const trainArgs = ['--preset', values.preset as string, ...(values.steps ? ['--steps', values.steps] : [])];

const inputs = await onboardingInputs();
const dataDir = await mkdtemp(join(tmpdir(), 'onboarding-bench-'));
const server = await startTestServer({ log: { level: 'warn' }, onboarding: { dataDir, adminToken: ADMIN, jobConcurrency: 1, python: testPythonConfig(trainArgs) } });
const rows: string[] = [];
try {
  const sources = [
    ['portrait', inputs.portrait],
    ['20 s clip', inputs.clip20s],
  ].filter(([name]) => !values.only || (name as string).includes(values.only));
  for (const [name, file] of sources as [string, string][]) {
    const load0 = loadavg()[0] as number;
    const t0 = performance.now();
    const form = new FormData();
    form.set('displayName', `Bench ${name}`);
    form.set('consent', JSON.stringify({ subjectName: 'Bench subject', uploadedBy: 'bench', statement: 'Benchmark of the project media.', agreed: true }));
    form.set('file', new Blob([readFileSync(file)]), basename(file));
    const res = await fetch(`${server.url}/api/identities`, { method: 'POST', body: form, headers: auth });
    const accepted = await res.json();
    if (res.status !== 201) throw new Error(`${name}: upload refused: ${JSON.stringify(accepted)}`);
    const t1 = performance.now();
    let started: number | undefined;
    const final = await new Promise<JobStatus>((resolve) => {
      const on = (s: JobStatus) => {
        if (s.id !== accepted.jobId) return;
        if (s.state === 'running' && started === undefined) started = performance.now();
        if (s.state === 'succeeded' || s.state === 'failed' || s.state === 'cancelled') {
          server.onboarding.queue.off('job', on);
          resolve(s);
        }
      };
      server.onboarding.queue.on('job', on);
    });
    const t3 = performance.now();
    if (final.state !== 'succeeded') throw new Error(`${name}: job ${final.state}: ${JSON.stringify(final.error)}`);
    const detail = await (await fetch(`${server.url}/api/identities/${accepted.identityId}`, { headers: auth })).json();
    const passed = detail.versionList[0].gates.passed as boolean;
    const pub = await fetch(`${server.url}/api/identities/${accepted.identityId}/versions/1/publish`, {
      method: 'POST',
      headers: { ...auth, 'Content-Type': 'application/json' },
      body: JSON.stringify(passed ? {} : { override: { reason: 'benchmark: publishing a version that missed a gate' } }),
    });
    if (pub.status !== 200) throw new Error(`${name}: publish failed: ${await pub.text()}`);
    const t4 = performance.now();
    jobStatusSchema.parse(final);
    const s = (ms: number) => (ms / 1000).toFixed(1);
    rows.push(
      `| ${name} | ${trainArgs.join(' ')} | ${s(t1 - t0)} | ${s((started ?? t1) - t1)} | ${s(t3 - (started ?? t1))} | ${s(t4 - t3)} | **${s(t4 - t0)}** | ${passed ? 'passed' : 'failed (override)'} | ${load0.toFixed(1)}–${(loadavg()[0] as number).toFixed(1)} |`,
    );
    console.log(rows.at(-1));
  }
} finally {
  await server.close();
  await rm(dataDir, { recursive: true, force: true });
}
console.log('\n| source | training args | upload + checks s | queue wait s | training s | publish s | upload → published s | gates | load avg |');
console.log('|---|---|---:|---:|---:|---:|---:|---|---|');
for (const row of rows) console.log(row);
