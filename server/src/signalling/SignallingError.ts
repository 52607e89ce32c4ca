/**
 * Typed signalling errors. Each carries its wire code, whether retrying the same request can
 * help, and the original error as `cause`. `toSignallingError` is the one place that decides
 * what an arbitrary thrown value means for the client.
 */
import type { SignallingErrorCode, SignallingErrorPayload } from '@shared/signalling';

export class SignallingError extends Error {
  override readonly name: string = 'SignallingError';
  constructor(
    readonly code: SignallingErrorCode,
    message: string,
    readonly retryable = false,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  toPayload(): SignallingErrorPayload {
    return { code: this.code, message: this.message, retryable: this.retryable };
  }
}

export class BadRequestError extends SignallingError {
  override readonly name = 'BadRequestError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('BAD_REQUEST', message, false, options);
  }
}

export class PayloadTooLargeError extends SignallingError {
  override readonly name = 'PayloadTooLargeError';
  constructor(bytes: number, limit: number) {
    super('PAYLOAD_TOO_LARGE', `request is ${bytes} bytes; the limit is ${limit}`);
  }
}

export class NotJoinedError extends SignallingError {
  override readonly name = 'NotJoinedError';
  constructor(method: string) {
    super('NOT_JOINED', `"${method}" needs a joined peer: call "join" first`);
  }
}

export class AlreadyJoinedError extends SignallingError {
  override readonly name = 'AlreadyJoinedError';
  constructor() {
    super('ALREADY_JOINED', 'this connection has already joined a room; call "leave" first');
  }
}

export class NotFoundError extends SignallingError {
  override readonly name = 'NotFoundError';
  constructor(what: string, id: string) {
    super('NOT_FOUND', `${what} "${id}" not found`);
  }
}

export class RoomFullError extends SignallingError {
  override readonly name = 'RoomFullError';
  constructor(roomId: string, max: number) {
    super('ROOM_FULL', `room "${roomId}" is full (${max} participants)`, true);
  }
}

export class RoomClosedError extends SignallingError {
  override readonly name = 'RoomClosedError';
  constructor(roomId: string) {
    super('ROOM_CLOSED', `room "${roomId}" is closed`, true);
  }
}

export class RateLimitedError extends SignallingError {
  override readonly name = 'RateLimitedError';
  constructor(retryAfterMs: number) {
    super('RATE_LIMITED', `too many requests; retry in ${Math.ceil(retryAfterMs)} ms`, true);
  }
}

export class LimitExceededError extends SignallingError {
  override readonly name = 'LimitExceededError';
  constructor(what: string, max: number) {
    super('BAD_REQUEST', `at most ${max} ${what} per peer`);
  }
}

export class InternalError extends SignallingError {
  override readonly name = 'InternalError';
  constructor(cause: unknown) {
    super('INTERNAL', 'internal server error', true, { cause });
  }
}

/** Maps anything thrown while handling a request to a SignallingError. Unknown → INTERNAL. */
export function toSignallingError(error: unknown): SignallingError {
  if (error instanceof SignallingError) return error;
  return new InternalError(error);
}

/**
 * mediasoup rejects bad client parameters (codecs, SSRCs, SCTP streams) by throwing: those
 * are the client's fault, so they become BAD_REQUEST carrying mediasoup's own message.
 */
export function mediasoupRejection(error: unknown, what: string): SignallingError {
  if (error instanceof SignallingError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new BadRequestError(`${what} rejected: ${message}`, { cause: error });
}

export class UnauthorizedError extends SignallingError {
  override readonly name = 'UnauthorizedError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('UNAUTHORIZED', message, false, options);
  }
}
