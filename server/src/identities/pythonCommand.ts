/**
 * How the server runs the Python student tools (training CLI, source check): the interpreter,
 * working directory, extra PYTHONPATH entries, module names and extra arguments all come from
 * config (`onboarding.python`), so a deployment can point at another checkout or a wrapper.
 */
import { readFileSync } from 'node:fs';
import { delimiter } from 'node:path';
import type { Config } from '../config';

export type PythonConfig = Config['onboarding']['python'];

export type CommandLine = { file: string; args: string[]; cwd: string; env: NodeJS.ProcessEnv };

function pythonEnv(py: PythonConfig, base: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const paths = [...py.pythonPath, ...(base.PYTHONPATH ? [base.PYTHONPATH] : [])];
  return {
    ...base,
    PYTHONPATH: paths.join(delimiter),
    PYTHONUNBUFFERED: '1',
    // One thread per job unless configured: the machine is shared with the live server.
    OMP_NUM_THREADS: String(py.threads),
    MKL_NUM_THREADS: String(py.threads),
  };
}

/**
 * `python -m <train module> --source S --out O [--resume] [--time-budget-s B] <extra>`, with B the
 * configured wall-time budget for the source's kind (none when 0).
 */
export function trainCommand(
  py: PythonConfig,
  o: { source: string; out: string; resume: boolean; sourceKind: 'portrait' | 'clip' },
  base = process.env,
): CommandLine {
  const budget = py.timeBudgetS[o.sourceKind];
  return {
    file: py.executable,
    args: [
      '-m', py.trainModule, '--source', o.source, '--out', o.out,
      ...(o.resume ? ['--resume'] : []),
      ...(budget > 0 ? ['--time-budget-s', String(budget)] : []),
      ...py.trainArgs,
    ],
    cwd: py.cwd,
    env: pythonEnv(py, base),
  };
}

/** `python -m <check module> --source S <extra>`. */
export function checkSourceCommand(py: PythonConfig, source: string, base = process.env): CommandLine {
  return {
    file: py.executable,
    args: ['-m', py.checkModule, '--source', source, ...py.checkArgs],
    cwd: py.cwd,
    env: pythonEnv(py, base),
  };
}

/**
 * Start time of a process (clock ticks since boot, /proc/<pid>/stat field 22), or undefined when
 * no such process: with the pid it names one process across pid reuse.
 */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm (field 2) may contain spaces and parentheses: split after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19]; // field 22 overall = index 19 after pid and comm
  } catch {
    return undefined;
  }
}

/**
 * True while the process `pid` that started at `startTime` runs. A zombie (exited, not yet reaped:
 * in a container whose init does not reap, an orphan's zombie can linger) counts as gone.
 */
export function processAlive(pid: number, startTime: string | undefined): boolean {
  if (startTime === undefined) return false;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19] === startTime && fields[0] !== 'Z';
  } catch {
    return false;
  }
}
