/**
 * Where the onboarding service keeps its files under the data directory (`DATA_DIR`). The
 * database stores paths relative to the data directory; these helpers are the only place that
 * spells the layout.
 *
 *   registry.sqlite                          the database (WAL: -wal, -shm beside it)
 *   tmp/                                     uploads being received or checked (emptied at start)
 *   identities/<identityId>/source.<ext>     the uploaded portrait or clip
 *   identities/<identityId>/versions/<jobId>/ a finished student directory (manifest.json, ONNX, preview)
 *   jobs/<jobId>/out/                        the training CLI's --out (checkpoints, previews)
 *   jobs/<jobId>/job.log                     the CLI's stderr and any protocol errors
 */
import { join, relative, resolve, sep } from 'node:path';

export class DataLayout {
  constructor(readonly root: string) {}

  get database(): string {
    return join(this.root, 'registry.sqlite');
  }
  get tmp(): string {
    return join(this.root, 'tmp');
  }
  get identities(): string {
    return join(this.root, 'identities');
  }
  get jobs(): string {
    return join(this.root, 'jobs');
  }
  identityDir(identityId: string): string {
    return join(this.identities, identityId);
  }
  versionsDir(identityId: string): string {
    return join(this.identityDir(identityId), 'versions');
  }
  jobDir(jobId: string): string {
    return join(this.jobs, jobId);
  }
  jobOut(jobId: string): string {
    return join(this.jobDir(jobId), 'out');
  }
  jobLog(jobId: string): string {
    return join(this.jobDir(jobId), 'job.log');
  }

  /** Path relative to the root, for the database. Throws for a path outside the root. */
  rel(absolute: string): string {
    const r = relative(this.root, absolute);
    if (r.startsWith('..') || r === '' || resolve(this.root, r) !== resolve(absolute)) {
      throw new Error(`path ${absolute} is not inside the data directory ${this.root}`);
    }
    return r.split(sep).join('/');
  }
  abs(relativePath: string): string {
    const p = resolve(this.root, relativePath);
    if (!p.startsWith(this.root + sep)) throw new Error(`stored path ${relativePath} escapes the data directory`);
    return p;
  }
}
