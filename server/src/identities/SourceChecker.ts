/**
 * Runs `python -m avatar_ml.student.check_source --source <file>` (the same decoding and face
 * detection training uses) and parses its one stdout line with the shared `sourceCheckResultSchema`.
 * Exit 0 = accepted, 1 = refused (the line says why), anything else = the checker failed.
 * At most `concurrentChecks` run at once; more wait their turn.
 */
import { basename } from 'node:path';
import { execFile } from 'node:child_process';
import { sourceCheckResultSchema, type SourceCheckResult } from '@shared/student';
import type { Config } from '../config';
import { checkSourceCommand } from './pythonCommand';
import { RegistryError } from './RegistryError';

export type AcceptedSource = Extract<SourceCheckResult, { ok: true }>;

/** HTTP status for each refusal code of the checker. */
const refusalStatus: Record<string, number> = {
  UNREADABLE_INPUT: 422,
  UNSUPPORTED_INPUT: 422,
  NO_FACE: 422,
  MULTIPLE_FACES: 422,
  FACE_TOO_SMALL: 422,
};

export class SourceChecker {
  readonly #config: Config['onboarding'];
  #running = 0;
  readonly #waiting: (() => void)[] = [];

  constructor(config: Config['onboarding']) {
    this.#config = config;
  }

  /**
   * Resolves with the accepted source's facts; throws RegistryError with the checker's words, in
   * which the file is called `shownAs` (the uploader's own file name) rather than its temp name.
   */
  async check(path: string, shownAs?: string): Promise<AcceptedSource> {
    await this.#acquire();
    try {
      return await this.#run(path);
    } catch (error) {
      const temp = basename(path);
      if (shownAs && error instanceof RegistryError && error.message.includes(temp)) {
        throw new RegistryError(error.status, error.code, error.message.replaceAll(temp, shownAs), { cause: error });
      }
      throw error;
    } finally {
      this.#release();
    }
  }

  async #acquire(): Promise<void> {
    if (this.#running < this.#config.uploads.concurrentChecks) {
      this.#running++;
      return;
    }
    await new Promise<void>((resolve) => this.#waiting.push(resolve));
  }

  #release(): void {
    const next = this.#waiting.shift();
    if (next) next();
    else this.#running--;
  }

  #run(path: string): Promise<AcceptedSource> {
    const cmd = checkSourceCommand(this.#config.python, path);
    return new Promise((resolve, reject) => {
      execFile(
        cmd.file,
        cmd.args,
        { cwd: cmd.cwd, env: cmd.env, timeout: this.#config.uploads.checkTimeoutMs, maxBuffer: 1024 * 1024, killSignal: 'SIGKILL' },
        (error, stdout, stderr) => {
          const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
          const line = stdout.trim().split('\n').filter(Boolean).at(-1);
          let parsed: SourceCheckResult | undefined;
          try {
            parsed = line ? sourceCheckResultSchema.parse(JSON.parse(line)) : undefined;
          } catch {
            parsed = undefined;
          }
          if (parsed?.ok && code === 0) return resolve(parsed);
          if (parsed && !parsed.ok && code === 1) {
            return reject(new RegistryError(refusalStatus[parsed.code] ?? 422, parsed.code, parsed.message));
          }
          const why = error?.killed ? `timed out after ${this.#config.uploads.checkTimeoutMs} ms` : `exited with ${code ?? error?.signal}`;
          const tail = stderr.trim().split('\n').at(-1) ?? '';
          reject(
            new RegistryError(503, 'CHECK_FAILED', `The face check could not run (${why}); try again later.`, {
              cause: new Error(`${cmd.file} ${cmd.args.join(' ')}: ${why}: ${tail}`),
            }),
          );
        },
      );
    });
  }
}
