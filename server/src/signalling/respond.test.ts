import { pino } from 'pino';
import { describe, expect, it, vi } from 'vitest';
import { ServerMetrics } from '../metrics/ServerMetrics';
import { respond } from './respond';
import { NotFoundError, RateLimitedError, mediasoupRejection } from './SignallingError';

const context = () => ({ log: pino({ level: 'silent' }), metrics: new ServerMetrics() });

describe('respond (the one ack helper)', () => {
  it('acks a result once as { ok: true, data }', async () => {
    const ack = vi.fn();
    await respond(ack, 'join', async () => ({ peerId: 'p' }), context());
    expect(ack).toHaveBeenCalledTimes(1);
    expect(ack).toHaveBeenCalledWith({ ok: true, data: { peerId: 'p' } });
  });

  it('acks void results with an empty object', async () => {
    const ack = vi.fn();
    await respond(ack, 'leave', () => undefined, context());
    expect(ack).toHaveBeenCalledWith({ ok: true, data: {} });
  });

  it('maps typed errors to their code and retryable flag', async () => {
    const ack = vi.fn();
    await respond(ack, 'consume', () => {
      throw new NotFoundError('producer', 'abc');
    }, context());
    expect(ack).toHaveBeenCalledWith({
      ok: false,
      error: { code: 'NOT_FOUND', message: 'producer "abc" not found', retryable: false },
    });
    const ack2 = vi.fn();
    await respond(ack2, 'join', () => Promise.reject(new RateLimitedError(40)), context());
    expect(ack2.mock.calls[0]?.[0]).toMatchObject({ ok: false, error: { code: 'RATE_LIMITED', retryable: true } });
  });

  it('hides unknown errors behind INTERNAL without leaking their message', async () => {
    const ack = vi.fn();
    await respond(ack, 'produce', () => {
      throw new Error('secret stack detail');
    }, context());
    expect(ack).toHaveBeenCalledWith({
      ok: false,
      error: { code: 'INTERNAL', message: 'internal server error', retryable: true },
    });
  });

  it('turns a mediasoup rejection into BAD_REQUEST keeping the cause', () => {
    const cause = new TypeError('invalid codec');
    const error = mediasoupRejection(cause, 'producer');
    expect(error.code).toBe('BAD_REQUEST');
    expect(error.message).toBe('producer rejected: invalid codec');
    expect(error.cause).toBe(cause);
  });

  it('counts outcomes by method and code', async () => {
    const ctx = context();
    await respond(vi.fn(), 'join', () => ({}), ctx);
    await respond(vi.fn(), 'join', () => Promise.reject(new NotFoundError('x', 'y')), ctx);
    const text = await ctx.metrics.registry.getSingleMetricAsString('avatar_signalling_requests_total');
    expect(text).toContain('avatar_signalling_requests_total{method="join",outcome="ok"} 1');
    expect(text).toContain('avatar_signalling_requests_total{method="join",outcome="NOT_FOUND"} 1');
  });

  it('survives an ack callback that throws', async () => {
    const response = await respond(() => {
      throw new Error('broken ack');
    }, 'leave', () => ({}), context());
    expect(response.ok).toBe(true);
  });
});
