import { describe, expect, it } from 'vitest';
import { afterRefusedSwitch, avatarModeRefusal, renderedIdentity, shouldRepublishCamera } from './avatarModeRules';

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

  it('follows the identity the server renders: running phases set it, stopped clears it, a refused switch leaves it', () => {
    let rendering: string | undefined;
    for (const [state, identityId] of [['starting', 'a'], ['calibrating', 'a'], ['live', 'a'], ['starting', 'b'], ['error', 'b']] as const) {
      rendering = renderedIdentity(rendering, { state, identityId });
    }
    expect(rendering).toBe('a');
    expect(renderedIdentity(rendering, { state: 'hold', identityId: 'b' })).toBe('b');
    expect(renderedIdentity(rendering, { state: 'stopped', identityId: 'a' })).toBeUndefined();
  });

  it('puts the picker back on the avatar still running after a refused switch, and says so', () => {
    expect(afterRefusedSwitch('bad', 'manifest invalid', 'demo')).toEqual({ picker: 'demo', message: 'manifest invalid (your avatar stays "demo")' });
    expect(afterRefusedSwitch('bad', 'manifest invalid', undefined)).toEqual({ picker: 'bad', message: 'manifest invalid' });
    expect(afterRefusedSwitch('demo', 'no microphone', 'demo')).toEqual({ picker: 'demo', message: 'no microphone' });
  });
});
