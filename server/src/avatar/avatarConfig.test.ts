import { describe, expect, it } from 'vitest';
import { avatarConfigSchema } from './avatarConfig';

describe('avatarConfigSchema', () => {
  it('takes its defaults from nothing', () => {
    const config = avatarConfigSchema.parse({});
    expect(config.encoder).toMatchObject({ bitrateKbps: 600, minBitrateKbps: 150, maxBitrateKbps: 1500 });
    expect(config.holdAfterMs).toBeLessThanOrEqual(config.easeAfterMs);
  });

  it('rejects a bitrate range whose minimum exceeds its maximum, naming the key', () => {
    const result = avatarConfigSchema.safeParse({ encoder: { minBitrateKbps: 2000 } });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toEqual(['encoder', 'minBitrateKbps']);
  });

  it('rejects late-motion timings out of order (hold after the ease or the idle motion)', () => {
    expect(avatarConfigSchema.safeParse({ holdAfterMs: 500, easeAfterMs: 400 }).error?.issues[0]?.path).toEqual(['holdAfterMs']);
    expect(avatarConfigSchema.safeParse({ holdAfterMs: 500, easeAfterMs: 600, idleAfterMs: 300 }).error?.issues[0]?.path).toEqual(['holdAfterMs']);
  });
});
