/**
 * `IdentityAccess` backed by the registry: a participant may drive an identity when
 *   - the room is the demo room and the identity is the demo identity (anyone, no token), or
 *   - their join token names the identity AND a grant in the registry lets that room (and that
 *     display name, or anyone) use it — so revoking a grant takes effect at the next resolve,
 *     even for tokens already issued;
 * and the identity has a published version whose files are intact. Identities the registry
 * does not know are passed to `fallback` (the config-backed demo identity of the live runtime).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  IdentityAccessError,
  type IdentityAccess,
  type IdentityRequester,
  type IdentitySummary,
  type ResolvedIdentity,
} from './IdentityAccess';
import type { IdentityRegistry } from './IdentityRegistry';

export type RegistryIdentityAccessOptions = {
  registry: IdentityRegistry;
  demo: { roomId: string; identityId: string };
  fallback?: IdentityAccess;
};

export class RegistryIdentityAccess implements IdentityAccess {
  readonly #registry: IdentityRegistry;
  readonly #demo: { roomId: string; identityId: string };
  readonly #fallback: IdentityAccess | undefined;

  constructor(options: RegistryIdentityAccessOptions) {
    this.#registry = options.registry;
    this.#demo = options.demo;
    this.#fallback = options.fallback;
  }

  #isDemo(requester: IdentityRequester, identityId: string): boolean {
    return requester.roomId === this.#demo.roomId && identityId === this.#demo.identityId;
  }

  /** Throws IDENTITY_NOT_GRANTED unless the requester may drive `identityId` (see the class doc). */
  #checkGrant(requester: IdentityRequester, identityId: string): void {
    if (this.#isDemo(requester, identityId)) return;
    if (!requester.tokenIdentities) {
      throw new IdentityAccessError('IDENTITY_NOT_GRANTED', `identity "${identityId}" needs a join token that names it; this participant joined without one`);
    }
    if (!requester.tokenIdentities.includes(identityId)) {
      throw new IdentityAccessError('IDENTITY_NOT_GRANTED', `the join token does not name identity "${identityId}"`);
    }
    if (!this.#registry.isGranted(identityId, requester.roomId, requester.displayName)) {
      throw new IdentityAccessError('IDENTITY_NOT_GRANTED', `identity "${identityId}" is not granted to room "${requester.roomId}" for ${requester.displayName}`);
    }
  }

  async listGranted(requester: IdentityRequester): Promise<IdentitySummary[]> {
    const out: IdentitySummary[] = [];
    for (const identity of this.#registry.listIdentities()) {
      if (identity.publishedVersion === null) continue;
      try {
        this.#checkGrant(requester, identity.id);
      } catch {
        continue;
      }
      out.push({ identityId: identity.id, displayName: identity.displayName, version: identity.publishedVersion });
    }
    if (this.#fallback) {
      const known = new Set(out.map((s) => s.identityId));
      for (const s of await this.#fallback.listGranted(requester)) {
        if (!known.has(s.identityId) && !this.#registry.identityRow(s.identityId)) out.push(s);
      }
    }
    return out;
  }

  async resolve(requester: IdentityRequester, identityId: string): Promise<ResolvedIdentity> {
    const row = this.#registry.identityRow(identityId);
    if (!row) {
      if (this.#fallback) return this.#fallback.resolve(requester, identityId);
      throw new IdentityAccessError('IDENTITY_NOT_FOUND', `identity "${identityId}" does not exist`);
    }
    this.#checkGrant(requester, identityId);
    let published;
    try {
      published = this.#registry.published(identityId);
    } catch (error) {
      throw new IdentityAccessError('IDENTITY_MODEL_INVALID', `identity "${identityId}"'s published version cannot be read`, { cause: error });
    }
    if (!published) throw new IdentityAccessError('IDENTITY_NOT_PUBLISHED', `identity "${identityId}" has no published version yet`);
    const modelPath = join(published.dir, published.manifest.model.file);
    if (!existsSync(modelPath)) {
      throw new IdentityAccessError('IDENTITY_MODEL_INVALID', `identity "${identityId}" version ${published.row.version} has lost its model file`);
    }
    return {
      identityId,
      displayName: row.display_name,
      version: published.row.version,
      studentDir: published.dir,
      manifest: published.manifest,
      modelPath,
    };
  }
}
