/**
 * The one place a signalling request becomes its acknowledgement: runs the handler, turns its
 * result or error into exactly one `SignallingResponse`, counts the outcome and logs it.
 */
import type { SignallingResponse } from '@shared/signalling';
import type { Logger } from '../logger';
import type { ServerMetrics } from '../metrics/ServerMetrics';
import { toSignallingError } from './SignallingError';

export type Ack = (response: SignallingResponse) => void;

export async function respond(
  ack: Ack,
  method: string,
  handler: () => unknown | Promise<unknown>,
  context: { log: Logger; metrics: ServerMetrics },
): Promise<SignallingResponse> {
  let response: SignallingResponse;
  try {
    const data = await handler();
    response = { ok: true, data: data ?? {} };
    context.log.debug({ method }, 'request ok');
  } catch (thrown) {
    const error = toSignallingError(thrown);
    response = { ok: false, error: error.toPayload() };
    if (error.code === 'INTERNAL') context.log.error({ method, err: thrown }, 'request failed');
    else context.log.debug({ method, code: error.code, message: error.message }, 'request rejected');
  }
  context.metrics.signallingRequests.inc({ method, outcome: response.ok ? 'ok' : response.error.code });
  try {
    ack(response);
  } catch (error) {
    // socket.io acks do not throw in practice; a broken one must not take the server down.
    context.log.warn({ method, err: error }, 'ack callback threw');
  }
  return response;
}
