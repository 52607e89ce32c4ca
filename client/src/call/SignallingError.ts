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
  }
}
