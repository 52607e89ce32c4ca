/**
 * One run of the training CLI as a child process in its own process group: stdout is read line by
 * line and each line parsed with the shared `trainingEventSchema` (a line that does not parse is a
 * protocol error, written to the job log and never guessed at); stderr goes to the job log. The
 * child's pid and start time are exposed so a restarted server can find and stop an orphan.
 *
 * Events: `event` (a parsed TrainingEvent), `exit` ({ code, signal, lastStderr, protocolErrors }).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { setPriority } from 'node:os';
import { dirname } from 'node:path';
import { createInterface } from 'node:readline';
import { trainingEventSchema, type TrainingEvent } from '@shared/student';
import { TypedEmitter } from '../util/TypedEmitter';
import { processStartTime, type CommandLine } from './pythonCommand';

export type TrainingExit = {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Last lines of stderr (at most 20), for the failure reason. */
  lastStderr: string[];
  protocolErrors: number;
};

export type TrainingProcessEvents = { event: [TrainingEvent]; exit: [TrainingExit] };

export class TrainingProcess extends TypedEmitter<TrainingProcessEvents> {
  readonly #child: ChildProcess;
  readonly #log: WriteStream;
  readonly #lastStderr: string[] = [];
  #protocolErrors = 0;
  #exited: TrainingExit | undefined;
  readonly pid: number;
  readonly startTime: string;

  private constructor(child: ChildProcess, log: WriteStream) {
    super();
    this.#child = child;
    this.#log = log;
    this.pid = child.pid as number;
    this.startTime = processStartTime(this.pid) ?? '';
  }

  /** Spawns the command; resolves once it is running (rejects if it cannot start). */
  static async start(command: CommandLine, o: { logFile: string; niceness: number }): Promise<TrainingProcess> {
    mkdirSync(dirname(o.logFile), { recursive: true });
    const log = createWriteStream(o.logFile, { flags: 'a' });
    log.write(`\n[${new Date().toISOString()}] $ ${command.file} ${command.args.join(' ')}\n`);
    const child = spawn(command.file, command.args, {
      cwd: command.cwd,
      env: command.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true, // own process group: kill() reaches its children too
    });
    try {
      await new Promise<void>((resolve, reject) => {
        child.once('spawn', resolve);
        child.once('error', reject);
      });
    } catch (error) {
      log.end(`spawn failed: ${String(error)}\n`);
      throw error;
    }
    if (o.niceness > 0) {
      try {
        setPriority(child.pid as number, o.niceness);
      } catch {
        /* not permitted: run at normal priority */
      }
    }
    const p = new TrainingProcess(child, log);
    p.#wire();
    return p;
  }

  #wire(): void {
    const child = this.#child;
    const stdout = createInterface({ input: child.stdout! });
    stdout.on('line', (line) => {
      if (line.trim() === '') return;
      let json: unknown;
      try {
        json = JSON.parse(line);
      } catch {
        json = undefined;
      }
      const parsed = trainingEventSchema.safeParse(json);
      if (!parsed.success) {
        this.#protocolErrors++;
        this.#log.write(`[protocol error] stdout line is not a training event: ${line.slice(0, 500)}\n`);
        return;
      }
      this.safeEmit('event', parsed.data);
    });
    const stderr = createInterface({ input: child.stderr! });
    stderr.on('line', (line) => {
      this.#log.write(`${line}\n`);
      if (line.trim() === '') return;
      this.#lastStderr.push(line);
      if (this.#lastStderr.length > 20) this.#lastStderr.shift();
    });
    let streamsOpen = 2;
    let exitInfo: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    const maybeExit = () => {
      if (streamsOpen > 0 || !exitInfo) return;
      this.#exited = { ...exitInfo, lastStderr: [...this.#lastStderr], protocolErrors: this.#protocolErrors };
      this.#log.end(`[${new Date().toISOString()}] exit code=${exitInfo.code} signal=${exitInfo.signal}\n`);
      this.safeEmit('exit', this.#exited);
    };
    stdout.once('close', () => {
      streamsOpen--;
      maybeExit();
    });
    stderr.once('close', () => {
      streamsOpen--;
      maybeExit();
    });
    child.once('exit', (code, signal) => {
      exitInfo = { code, signal };
      maybeExit();
    });
  }

  get exited(): TrainingExit | undefined {
    return this.#exited;
  }

  /** Resolves with the exit once the process and its output streams have ended. */
  wait(): Promise<TrainingExit> {
    if (this.#exited) return Promise.resolve(this.#exited);
    return new Promise((resolve) => this.once('exit', resolve));
  }

  /** Signals the whole process group (SIGTERM by default). Safe after exit. */
  kill(signal: NodeJS.Signals = 'SIGTERM'): void {
    if (this.#exited) return;
    killGroup(this.pid, signal);
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves on exit. */
  async stop(graceMs = 5000): Promise<TrainingExit> {
    this.kill('SIGTERM');
    const timer = setTimeout(() => this.kill('SIGKILL'), graceMs);
    try {
      return await this.wait();
    } finally {
      clearTimeout(timer);
    }
  }
}

/** Kills a process group (or the process if it has no group of its own); ignores a gone one. */
export function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      /* already gone */
    }
  }
}
