/**
 * IdentityAccess backed by config (`config.avatar.identities` and `roomGrants`): until the
 * onboarding registry serves identities and JWT grants, the config names which identities each
 * room may use ('*' = every room). The student's manifest is parsed with the shared schema and
 * its ONNX file checked against the manifest's sha256, so a corrupted or swapped model is refused
 * with IDENTITY_MODEL_INVALID before anything loads it.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ZodError } from 'zod';
import { studentManifestSchema } from '@shared/student/studentManifest';
import {
  IdentityAccessError,
  type IdentityAccess,
  type IdentityRequester,
  type IdentitySummary,
  type ResolvedIdentity,
} from '../identities/IdentityAccess';
import { sha256File } from '../util/sha256File';
import type { AvatarConfig } from './avatarConfig';

export class ConfigIdentityAccess implements IdentityAccess {
  readonly #config: Pick<AvatarConfig, 'identities' | 'roomGrants'>;

  constructor(config: Pick<AvatarConfig, 'identities' | 'roomGrants'>) {
    this.#config = config;
  }

  async listGranted(requester: IdentityRequester): Promise<IdentitySummary[]> {
    const granted = this.#granted(requester.roomId);
    return this.#config.identities
      .filter((i) => granted.has(i.identityId))
      .map((i) => ({ identityId: i.identityId, displayName: i.displayName, version: 1 }));
  }

  async resolve(requester: IdentityRequester, identityId: string): Promise<ResolvedIdentity> {
    const entry = this.#config.identities.find((i) => i.identityId === identityId);
    if (!entry) throw new IdentityAccessError('IDENTITY_NOT_FOUND', `no identity "${identityId}"`);
    if (!this.#granted(requester.roomId).has(identityId)) {
      throw new IdentityAccessError('IDENTITY_NOT_GRANTED', `identity "${identityId}" is not granted in room "${requester.roomId}"`);
    }
    let raw: string;
    try {
      raw = await readFile(join(entry.studentDir, 'manifest.json'), 'utf8');
    } catch (error) {
      throw new IdentityAccessError('IDENTITY_NOT_PUBLISHED', `no student manifest in ${entry.studentDir}`, { cause: error });
    }
    let manifest;
    try {
      manifest = studentManifestSchema.parse(JSON.parse(raw));
    } catch (error) {
      throw new IdentityAccessError('IDENTITY_MODEL_INVALID', `manifest.json of "${identityId}" is invalid: ${manifestProblem(error)}`, { cause: error });
    }
    const modelPath = join(entry.studentDir, manifest.model.file);
    let sha256: string;
    try {
      sha256 = await sha256File(modelPath);
    } catch (error) {
      throw new IdentityAccessError('IDENTITY_NOT_PUBLISHED', `model file ${manifest.model.file} of "${identityId}" is missing`, { cause: error });
    }
    if (sha256 !== manifest.model.sha256) {
      throw new IdentityAccessError(
        'IDENTITY_MODEL_INVALID',
        `model file of "${identityId}" does not match its manifest (sha256 ${sha256.slice(0, 12)}…, expected ${manifest.model.sha256.slice(0, 12)}…): corrupted or replaced`,
      );
    }
    return { identityId, displayName: entry.displayName, version: 1, studentDir: entry.studentDir, manifest, modelPath };
  }

  #granted(roomId: string): Set<string> {
    const grants = this.#config.roomGrants;
    return new Set([...(grants[roomId] ?? []), ...(grants['*'] ?? [])]);
  }
}

/** What is wrong with a manifest, in a few words: the first schema issues with their paths, or the JSON syntax error. */
function manifestProblem(error: unknown): string {
  if (error instanceof ZodError) {
    const shown = error.issues.slice(0, 3).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    return shown.join('; ') + (error.issues.length > 3 ? `; and ${error.issues.length - 3} more` : '');
  }
  return error instanceof Error ? error.message : String(error);
}
