/**
 * The admin token and the join-token secret: from config when set, otherwise generated once and
 * kept in the data directory (mode 0600) so a restart keeps them. `created` tells the caller to
 * print the new admin token (the only time it is shown).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export type Secret = { value: string; source: 'config' | 'file' | 'generated'; file?: string };

export function loadOrCreateSecret(dataDir: string, name: string, configured: string | undefined, bytes: number): Secret {
  if (configured) return { value: configured, source: 'config' };
  const file = join(dataDir, name);
  if (existsSync(file)) {
    const value = readFileSync(file, 'utf8').trim();
    if (value.length >= 16) return { value, source: 'file', file };
  }
  const value = randomBytes(bytes).toString('base64url');
  writeFileSync(file, `${value}\n`, { mode: 0o600 });
  return { value, source: 'generated', file };
}
