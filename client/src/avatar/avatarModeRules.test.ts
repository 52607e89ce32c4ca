import { describe, expect, it } from 'vitest';
import { avatarModeRefusal, shouldRepublishCamera } from './avatarModeRules';

describe('avatar mode rules', () => {
  it('publishes the camera again after avatar mode only when it is live and on', () => {
    const live = { readyState: 'live' as const, enabled: true };
    expect(shouldRepublishCamera({ track: live, cameraOff: false })).toBe(true);
    // "Stop camera" while in avatar mode: disabled track, user choice off
    expect(shouldRepublishCamera({ track: { readyState: 'live', enabled: false }, cameraOff: true })).toBe(false);
    expect(shouldRepublishCamera({ track: live, cameraOff: true })).toBe(false);
    expect(shouldRepublishCamera({ track: { readyState: 'ended', enabled: true }, cameraOff: false })).toBe(false);
    expect(shouldRepublishCamera({ track: undefined, cameraOff: false })).toBe(false);
  });

  it('refuses avatar mode up front when no identity is granted', () => {
    expect(avatarModeRefusal([])).toMatch(/no avatar identity is granted/);
    expect(avatarModeRefusal([{ identityId: 'demo', displayName: 'Demo', version: 1 }])).toBeUndefined();
  });
});
