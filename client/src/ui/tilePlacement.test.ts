import { describe, expect, it } from 'vitest';
import { tilePlacement } from './tilePlacement';

const avatarOf = (drivenByPeerId: string) => ({ kind: 'ai-avatar' as const, drivenByPeerId, identityId: 'demo' });

describe('tilePlacement', () => {
  it("puts a participant's camera and voice in their own tile", () => {
    expect(tilePlacement({ peerId: 'bob', kind: 'video' }, 'me')).toEqual({ tile: 'remote', peerId: 'bob', slot: 'media' });
    expect(tilePlacement({ peerId: 'bob', kind: 'audio' }, 'me')).toEqual({ tile: 'remote', peerId: 'bob', slot: 'media' });
  });

  it("puts an AI avatar in its driver's tile, not in a tile of the server peer that publishes it", () => {
    expect(tilePlacement({ peerId: 'server-1', kind: 'video', synthetic: avatarOf('alice') }, 'me')).toEqual({
      tile: 'remote',
      peerId: 'alice',
      slot: 'avatar',
    });
  });

  it("puts this page's own avatar in the local tile", () => {
    expect(tilePlacement({ peerId: 'server-1', kind: 'video', synthetic: avatarOf('me') }, 'me')).toEqual({ tile: 'local', slot: 'avatar' });
  });

  it('plays a synthetic voice with its driver, and never plays this page its own', () => {
    expect(tilePlacement({ peerId: 'server-1', kind: 'audio', synthetic: avatarOf('alice') }, 'me')).toEqual({
      tile: 'remote',
      peerId: 'alice',
      slot: 'media',
    });
    expect(tilePlacement({ peerId: 'server-1', kind: 'audio', synthetic: avatarOf('me') }, 'me')).toEqual({ tile: 'none' });
  });

  it('keeps a server track that is not an avatar in its server peer tile', () => {
    expect(tilePlacement({ peerId: 'server-2', kind: 'video' }, 'me')).toEqual({ tile: 'remote', peerId: 'server-2', slot: 'media' });
  });
});
