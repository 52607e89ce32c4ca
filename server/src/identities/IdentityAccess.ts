/**
 * The seam between the live avatar runtime (server/src/avatar/) and whoever knows which faces
 * exist and who may drive them. Until the onboarding registry lands, a config-backed
 * implementation names the identities a room may use; the registry (SQLite + JWT grants)
 * implements the same interface. A refusal is an error, never a fallback to another face.
 */
import type { StudentManifest } from '@shared/student/studentManifest.js';

/** Who asks: the peer as the join established it. */
export type IdentityRequester = {
  roomId: string;
  peerId: string;
  displayName: string;
  /** Identities named by the peer's join token; undefined when the peer joined without one. */
  tokenIdentities?: readonly string[];
};

/** What a participant can pick from (no file paths). */
export type IdentitySummary = {
  identityId: string;
  displayName: string;
  /** The published version live sessions use. */
  version: number;
};

/** A published identity resolved for a session: the student directory and its parsed manifest. */
export type ResolvedIdentity = IdentitySummary & {
  /** Absolute directory holding manifest.json and the ONNX file it names. */
  studentDir: string;
  manifest: StudentManifest;
  /** Absolute path of the ONNX file (studentDir + manifest.model.file). */
  modelPath: string;
};

export class IdentityAccessError extends Error {
  constructor(
    readonly code: 'IDENTITY_NOT_FOUND' | 'IDENTITY_NOT_GRANTED' | 'IDENTITY_NOT_PUBLISHED' | 'IDENTITY_MODEL_INVALID',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'IdentityAccessError';
  }
}

export interface IdentityAccess {
  /** Identities this requester may drive, for the page's picker. */
  listGranted(requester: IdentityRequester): Promise<IdentitySummary[]>;
  /**
   * The published version of `identityId` if the requester may drive it.
   * Throws IdentityAccessError (NOT_FOUND, NOT_GRANTED, NOT_PUBLISHED, MODEL_INVALID).
   */
  resolve(requester: IdentityRequester, identityId: string): Promise<ResolvedIdentity>;
}
