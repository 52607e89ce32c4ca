/**
 * Where tests find the real student training CLI (`python -m avatar_ml.student.train`, the student
 * issue): this repository's models/ when it has it, else the checkout named by `STUDENT_CLI_ROOT`
 * (a models/ directory, e.g. another worktree's). Tests that need it are skipped, with this
 * reason, when neither has it. `trainedStudent()` runs a real tiny training once (s0.jpg,
 * `--steps 20 --preset fast`) and caches the result by the CLI's source hash.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { cp, mkdir, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));

function findModelsRoot(): string | undefined {
  const own = join(repoRoot, 'models');
  if (existsSync(join(own, 'avatar_ml/student/train.py'))) return own;
  const other = process.env.STUDENT_CLI_ROOT;
  if (other && existsSync(join(other, 'avatar_ml/student/train.py'))) return other;
  return undefined;
}

export const studentModelsRoot = findModelsRoot();
export const studentCliMissing = studentModelsRoot
  ? undefined
  : 'the student training CLI (models/avatar_ml/student/train.py) is not in this checkout; set STUDENT_CLI_ROOT to a models/ directory that has it';
// Say why the tests that need it are skipped (vitest's skipIf shows no reason).
if (studentCliMissing) console.warn(`onboarding tests skipped: ${studentCliMissing}`);

/** `onboarding.python` overrides for tests: the real CLI, a tiny real training. */
export function testPythonConfig(extraTrainArgs: string[] = ['--steps', '20', '--preset', 'fast']) {
  if (!studentModelsRoot) throw new Error(studentCliMissing);
  return {
    executable: join(repoRoot, 'models/.venv/bin/python'),
    cwd: studentModelsRoot,
    pythonPath: [studentModelsRoot],
    trainArgs: extraTrainArgs,
    niceness: 10,
  };
}

function cliHash(): string {
  const hash = createHash('sha256');
  const dir = join(studentModelsRoot as string, 'avatar_ml/student');
  for (const name of readdirSync(dir).filter((n) => n.endsWith('.py')).sort()) hash.update(name).update(readFileSync(join(dir, name)));
  return hash.digest('hex').slice(0, 16);
}

let pending: Promise<string> | undefined;

/** A real student directory trained from s0.jpg (20 fast steps), cached; returns a fresh copy's path. */
export async function trainedStudent(into: string): Promise<string> {
  pending ??= (async () => {
    const cache = join(tmpdir(), 'avatar-call-onboarding-student', cliHash());
    if (existsSync(join(cache, 'manifest.json'))) return cache;
    const work = `${cache}.tmp-${process.pid}`;
    await rm(work, { recursive: true, force: true });
    await mkdir(join(cache, '..'), { recursive: true });
    const py = testPythonConfig();
    await run(py.executable, ['-m', 'avatar_ml.student.train', '--source', join(repoRoot, '../shared/media/s0.jpg'), '--out', work, ...py.trainArgs], {
      cwd: py.cwd,
      env: { ...process.env, PYTHONPATH: py.pythonPath.join(':'), OMP_NUM_THREADS: '1' },
      maxBuffer: 64 * 1024 * 1024,
    });
    await rm(cache, { recursive: true, force: true });
    await rename(work, cache);
    return cache;
  })();
  const cache = await pending;
  await cp(cache, into, { recursive: true });
  return into;
}
