import { describe, expect, it } from 'vitest';
import { avatarStateText } from './AvatarRenderPanel';

describe('avatarStateText', () => {
  const idle = { state: 'idle' as const, identityId: 'demo' };

  it('says why a camera-driven face idles when the camera is off, and how to drive it again', () => {
    expect(avatarStateText('camera', idle, true)).toBe('Avatar idle (no motion) — your camera is off: turn it on to drive your avatar');
    expect(avatarStateText('camera', { state: 'calibrating', identityId: 'demo' }, true)).toMatch(/camera is off/);
  });

  it('says why a camera-driven face idles when the camera sees no face', () => {
    expect(avatarStateText('camera', idle, false, true)).toBe('Avatar idle (no motion) — no face in your camera: face it, with your face in the light');
    expect(avatarStateText('camera', { state: 'hold', identityId: 'demo' }, false, true)).toMatch(/no face in your camera/);
    // The camera being off is the first thing to fix.
    expect(avatarStateText('camera', idle, true, true)).toMatch(/camera is off/);
    expect(avatarStateText('camera', { state: 'live', identityId: 'demo' }, false, true)).toBe('Avatar live');
    expect(avatarStateText('audio', idle, false, true)).toBe('Avatar idle (no voice reaching the server)');
  });

  it('adds nothing with the camera on, for a live avatar, or for a voice-driven one', () => {
    expect(avatarStateText('camera', idle, false)).toBe('Avatar idle (no motion)');
    expect(avatarStateText('camera', { state: 'live', identityId: 'demo' }, true)).toBe('Avatar live');
    expect(avatarStateText('audio', idle, true)).toBe('Avatar idle (no voice reaching the server)');
  });

  it('keeps the server message after the state words', () => {
    expect(avatarStateText('camera', { state: 'error', identityId: 'x', message: 'identity "x" is not granted' }, false)).toBe(
      'Avatar unavailable: identity "x" is not granted',
    );
  });
});
