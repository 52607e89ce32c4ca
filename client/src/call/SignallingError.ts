import type { SignallingErrorCode } from '@shared/signalling';

/** Where a failed request's error came from: the server's answer, or the client side. */
export type SignallingErrorOrigin = 'server' | 'timeout' | 'disconnected' | 'bad-response';

/** A signalling request that did not succeed, with the server's code and retry hint. */
export class SignallingError extends Error {
  override readonly name = 'SignallingError';

  constructor(
    readonly method: string,
    readonly code: SignallingErrorCode,
    message: string,
    readonly retryable: boolean,
    readonly origin: SignallingErrorOrigin = 'server',
    options?: { cause?: unknown },
  ) {
    super(`${method}: ${code}: ${message}`, options);
    this.reason = message;
  }

  /** The server's (or transport's) words alone, for people: no method name, no code. */
  readonly reason: string;
}

/** What to show a person for an error: a SignallingError's plain reason, else the message. */
export function userMessage(error: unknown): string {
  if (error instanceof SignallingError) return error.reason;
  return error instanceof Error ? error.message : String(error);
}
