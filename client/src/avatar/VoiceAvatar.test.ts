import { describe, expect, it } from 'vitest';
import type { AvatarStats } from '@shared/avatar/avatarProtocol';
import { avatarStatsSchema } from '@shared/avatar/avatarProtocol';
import { avatarStatsText } from './AvatarRenderPanel';
import { initialIdentity } from './VoiceAvatar';

const base: AvatarStats = {
  identityId: 'demo', state: 'live', fps: 25, framesRendered: 100, framesSent: 100, framesDropped: {}, lateTicks: 0,
  motionAgeMsP50: 200, inferenceMsP50: 20, encodeMsP50: 3, playedToSentMsP50: 30, playedToSentMsP95: 50,
  bitrateKbps: 600, bandwidthEstimateKbps: null, sentKbps: 580, keyframes: 1, keyframeRequests: 0, workerRestarts: 0, blinks: 2,
};

describe('voice avatar panel', () => {
  it('starts with the remembered identity while it is still granted, else the first granted', () => {
    const granted = [{ identityId: 'a', displayName: 'A', version: 1 }, { identityId: 'b', displayName: 'B', version: 2 }];
    expect(initialIdentity(granted, 'b')).toBe('b');
    expect(initialIdentity(granted, 'gone')).toBe('a');
    expect(initialIdentity(granted, null)).toBe('a');
    expect(initialIdentity([], 'b')).toBeUndefined();
  });

  it('shows the audio-to-lip latency and the lip sync applied for listeners', () => {
    const stats = avatarStatsSchema.parse({
      ...base,
      audioToLip: { speechToMouthMsP50: 180, speechToMouthMsP95: 240, lookaheadMs: 112.5, inferenceMsP50: 4 },
      avSync: { audioDelayMs: 262, measuredDelayMs: 262, extraMs: 0 },
    });
    const text = avatarStatsText(stats);
    expect(text).toContain('audio→lip 180 ms (p95 240 ms; look-ahead 113 ms, audio model 4 ms)');
    expect(text).toContain('A/V sync: listeners delay your voice 262 ms (avatar 262 ms behind it + 0 ms)');
    expect(avatarStatsText({ ...base, avSync: { audioDelayMs: null, measuredDelayMs: null, extraMs: 100 } })).toContain('A/V sync: not applied yet');
  });

  it('keeps the camera avatar figures as they were (the new fields are optional)', () => {
    const text = avatarStatsText(avatarStatsSchema.parse(base));
    expect(text).not.toContain('audio→lip');
    expect(text).not.toContain('A/V sync');
  });
});
