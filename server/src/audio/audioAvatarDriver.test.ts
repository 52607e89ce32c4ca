import { describe, expect, it } from 'vitest';
import { startAvatarRequest } from '@shared/avatar/avatarProtocol';
import type { ResolvedIdentity } from '../identities/IdentityAccess';
import type { Peer } from '../rooms/Peer';
import type { Room } from '../rooms/Room';
import { audioMotionSourceFactory } from './audioAvatarDriver';

describe('audio avatar driver', () => {
  it("startAvatar takes driver 'camera' | 'audio' (optional) and nothing else", () => {
    expect(startAvatarRequest.safeParse({ method: 'startAvatar', data: { identityId: 'demo', driver: 'audio' } }).success).toBe(true);
    expect(startAvatarRequest.safeParse({ method: 'startAvatar', data: { identityId: 'demo' } }).success).toBe(true);
    expect(startAvatarRequest.safeParse({ method: 'startAvatar', data: { identityId: 'demo', driver: 'video' } }).success).toBe(false);
    expect(startAvatarRequest.safeParse({ method: 'startAvatar', data: { identityId: 'demo', extra: 1 } }).success).toBe(false);
  });

  it('refuses with BAD_REQUEST when the peer publishes no microphone', async () => {
    const peer = { producers: new Map() } as unknown as Peer;
    const factory = audioMotionSourceFactory({} as Room, peer);
    await expect(factory({} as ResolvedIdentity)).rejects.toMatchObject({ code: 'BAD_REQUEST', message: /needs a published microphone/ });
  });
});
