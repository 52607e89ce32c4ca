import { describe, expect, it } from 'vitest';
import { tileStateLabel, type TileStateInput } from './tileState';

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
    expect(tileStateLabel({ ...base, hasVideo: false, hasAudio: false })).toBe('no media');
  });
});
