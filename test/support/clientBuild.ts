/**
 * Builds the browser client once for e2e tests, into a cache folder keyed by the hash of every
 * input (client/, shared/src, package-lock.json), so repeated runs with unchanged sources reuse
 * it and a test never serves a stale bundle. Written to a temp folder then renamed, so a build
 * that dies half-way is never used.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
// Not under node_modules/.cache: express's sendFile refuses paths with a dot-folder in them.
const cacheRoot = join(tmpdir(), 'avatar-call-e2e', 'client-builds');

async function listFiles(dir: string, skip: (path: string) => boolean): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (skip(path)) continue;
    if (entry.isDirectory()) out.push(...(await listFiles(path, skip)));
    else if (entry.isFile()) out.push(path);
  }
  return out;
}

async function inputsHash(): Promise<string> {
  const hash = createHash('sha256');
  const skip = (path: string): boolean => /[\\/](dist|node_modules)$/.test(path) || path.endsWith('.test.ts');
  const files = [
    ...(await listFiles(join(repoRoot, 'client'), skip)),
    ...(await listFiles(join(repoRoot, 'shared/src'), skip)),
    join(repoRoot, 'package-lock.json'),
  ].sort();
  for (const file of files) {
    hash.update(relative(repoRoot, file)).update('\0').update(await readFile(file)).update('\0');
  }
  return hash.digest('hex').slice(0, 16);
}

let pending: Promise<string> | undefined;

/** Returns the folder holding the built client (index.html + assets). */
export function ensureClientBuild(): Promise<string> {
  pending ??= buildIfNeeded();
  return pending;
}

async function buildIfNeeded(): Promise<string> {
  const outDir = join(cacheRoot, await inputsHash());
  if (existsSync(join(outDir, 'index.html'))) return outDir;
  await mkdir(cacheRoot, { recursive: true });
  const tmpDir = `${outDir}.tmp-${process.pid}`;
  await build({
    configFile: join(repoRoot, 'client/vite.config.ts'),
    build: { outDir: tmpDir, emptyOutDir: true, sourcemap: false },
    logLevel: 'warn',
  });
  await rm(outDir, { recursive: true, force: true });
  await rename(tmpDir, outDir);
  // Keep only the newest few builds.
  const builds = (await readdir(cacheRoot)).filter((name) => /^[0-9a-f]{16}$/.test(name));
  if (builds.length > 4) {
    const aged = await Promise.all(builds.map(async (name) => ({ name, mtime: (await stat(join(cacheRoot, name))).mtimeMs })));
    aged.sort((a, b) => b.mtime - a.mtime);
    for (const old of aged.slice(4)) await rm(join(cacheRoot, old.name), { recursive: true, force: true });
  }
  return outDir;
}
