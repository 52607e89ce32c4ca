/** CPU use of a process from /proc/<pid>/stat (utime + stime), as % of one core between samples. */
import { readFileSync } from 'node:fs';

const CLOCK_TICKS_PER_SECOND = 100; // USER_HZ: 100 on every Linux this runs on (`getconf CLK_TCK`)

export class ProcessCpu {
  readonly pid: number;
  #lastTicks: number;
  #lastMs: number;

  constructor(pid: number) {
    this.pid = pid;
    this.#lastTicks = ProcessCpu.#ticks(pid);
    this.#lastMs = performance.now();
  }

  /** Restarts the measurement window. */
  reset(): void {
    this.#lastTicks = ProcessCpu.#ticks(this.pid);
    this.#lastMs = performance.now();
  }

  /** % of one core used since the last reset. */
  percent(): number {
    const ticks = ProcessCpu.#ticks(this.pid);
    const ms = performance.now();
    return ((ticks - this.#lastTicks) / CLOCK_TICKS_PER_SECOND / ((ms - this.#lastMs) / 1000)) * 100;
  }

  static #ticks(pid: number): number {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces: split after its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[0] is field 3 (state); utime and stime are fields 14 and 15.
    return Number(fields[11]) + Number(fields[12]);
  }
}
