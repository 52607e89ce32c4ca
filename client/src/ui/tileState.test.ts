import { describe, expect, it } from 'vitest';
import { ownAvatarPhase, tileStateLabel, type TileStateInput } from './tileState';

const base: TileStateInput = {
  transport: 'connected',
  hasVideo: true,
  hasAudio: true,
  videoPaused: false,
  audioPaused: false,
  videoPlaying: true,
};

describe('tileStateLabel', () => {
  it('says live once video frames render over a connected transport', () => {
    expect(tileStateLabel(base)).toBe('live');
    expect(tileStateLabel({ ...base, videoPlaying: false })).toBe('waiting for video');
  });

  it('reports transport trouble before anything about tracks', () => {
    expect(tileStateLabel({ ...base, transport: 'connecting' })).toBe('connecting');
    expect(tileStateLabel({ ...base, transport: 'disconnected' })).toBe('reconnecting');
    expect(tileStateLabel({ ...base, transport: 'failed' })).toBe('failed');
  });

  it('distinguishes paused video, audio-only and muted participants', () => {
    expect(tileStateLabel({ ...base, videoPaused: true })).toBe('video paused');
    expect(tileStateLabel({ ...base, videoPaused: true, audioPaused: true })).toBe('muted');
    expect(tileStateLabel({ ...base, hasVideo: false })).toBe('audio only');
    expect(tileStateLabel({ ...base, hasVideo: false, audioPaused: true })).toBe('muted');
    expect(tileStateLabel({ ...base, hasVideo: false, hasAudio: false })).toBe('no camera or mic');
  });

  it("shows a participant's avatar in their tile: starting until its first frame, then live", () => {
    const voiceOnly = { ...base, hasVideo: false };
    expect(tileStateLabel({ ...voiceOnly, hasAvatar: true, avatarPlaying: false })).toBe('starting avatar…');
    expect(tileStateLabel({ ...voiceOnly, hasAvatar: true, avatarPlaying: true })).toBe('live');
    // it replaces the camera, paused or not
    expect(tileStateLabel({ ...base, videoPaused: true, hasAvatar: true, avatarPlaying: true })).toBe('live');
    expect(tileStateLabel({ ...voiceOnly, hasAvatar: true, avatarPlaying: true, transport: 'disconnected' })).toBe('reconnecting');
  });

  it("never says 'no camera or mic' on the tile of an audio-only participant whose avatar is starting", () => {
    const audioOnly = { ...base, hasVideo: false, videoPlaying: false };
    expect(tileStateLabel({ ...audioOnly, ownAvatar: 'starting' })).toBe('starting avatar…');
    expect(tileStateLabel({ ...audioOnly, ownAvatar: 'running' })).toBe('starting avatar…');
    expect(tileStateLabel({ ...audioOnly, ownAvatar: 'none' })).toBe('audio only');
    expect(tileStateLabel({ ...audioOnly, audioPaused: true, ownAvatar: 'none' })).toBe('muted');
    expect(tileStateLabel({ ...audioOnly, hasAudio: false, ownAvatar: 'starting', transport: 'connecting' })).toBe('connecting');
    expect(tileStateLabel({ ...audioOnly, hasAudio: false, ownAvatar: 'starting' })).toBe('starting avatar…');
  });

  it('asks the camera driver to look at the camera while the server calibrates, even once the avatar shows', () => {
    expect(tileStateLabel({ ...base, ownAvatar: 'calibrating' })).toBe('look at the camera…');
    expect(tileStateLabel({ ...base, ownAvatar: 'calibrating', hasAvatar: true, avatarPlaying: true })).toBe('look at the camera…');
    expect(tileStateLabel({ ...base, ownAvatar: 'running', hasAvatar: true, avatarPlaying: true })).toBe('live');
  });
});

describe('ownAvatarPhase', () => {
  it("maps the server's avatar state to the local tile's phase", () => {
    expect(ownAvatarPhase(undefined)).toBe('none');
    expect(ownAvatarPhase('starting')).toBe('starting');
    expect(ownAvatarPhase('calibrating')).toBe('calibrating');
    for (const state of ['live', 'hold', 'easing', 'idle'] as const) expect(ownAvatarPhase(state)).toBe('running');
    expect(ownAvatarPhase('stopped')).toBe('none');
    expect(ownAvatarPhase('error')).toBe('none');
  });
});
