/** Signalling errors of avatar rendering: what a participant is told when it cannot start. */
import { IdentityAccessError } from '../identities/IdentityAccess';
import { SignallingError } from '../signalling/SignallingError';
import { StudentLoadError } from './StudentModel';

export class IdentityRefusedError extends SignallingError {
  override readonly name = 'IdentityRefusedError';
}

/** A start superseded by a later startAvatar/stopAvatar of the same peer (last one wins). */
export class AvatarStartCancelledError extends SignallingError {
  override readonly name = 'AvatarStartCancelledError';
  constructor(identityId: string) {
    super('UNAVAILABLE', `avatar start of "${identityId}" cancelled: a later startAvatar or stopAvatar request replaced it`);
  }
}

/** The driver (or its room) left while its avatar was starting: an expected race, not a fault. */
export class PeerLeftError extends SignallingError {
  override readonly name = 'PeerLeftError';
  constructor(identityId: string, cause?: unknown) {
    super('UNAVAILABLE', `the participant left before its avatar "${identityId}" started`, false, { cause });
  }
}

/** The server already renders as many avatars as it is configured to (`avatar.maxSessions`). */
export class AvatarCapacityError extends SignallingError {
  override readonly name = 'AvatarCapacityError';
  constructor(limit: number) {
    super('UNAVAILABLE', `this server renders at most ${limit} avatars at once; try again later`, true);
  }
}

/**
 * Maps identity and model failures to clear signalling errors: unknown identity → NOT_FOUND,
 * not granted → FORBIDDEN, unpublished or broken model → UNAVAILABLE. Never a fallback face.
 */
export function avatarStartError(error: unknown, identityId: string): SignallingError {
  if (error instanceof SignallingError) return error;
  if (error instanceof IdentityAccessError) {
    switch (error.code) {
      case 'IDENTITY_NOT_FOUND':
        return new IdentityRefusedError('NOT_FOUND', `identity "${identityId}" does not exist`, false, { cause: error });
      case 'IDENTITY_NOT_GRANTED':
        return new IdentityRefusedError('FORBIDDEN', `you may not use identity "${identityId}" in this room`, false, { cause: error });
      case 'IDENTITY_NOT_PUBLISHED':
        return new IdentityRefusedError('UNAVAILABLE', `identity "${identityId}" has no published model yet`, false, { cause: error });
      case 'IDENTITY_MODEL_INVALID':
        return new IdentityRefusedError('UNAVAILABLE', `identity "${identityId}" cannot be used: ${error.message}`, false, { cause: error });
    }
  }
  if (error instanceof StudentLoadError) {
    return new IdentityRefusedError('UNAVAILABLE', `identity "${identityId}": its model failed to load (${error.message})`, false, { cause: error });
  }
  return new SignallingError('INTERNAL', 'avatar rendering could not start', true, { cause: error });
}
