import { describe, expect, it } from 'vitest';
import { startAvatarRequest } from '@shared/avatar/avatarProtocol';
import type { ResolvedIdentity } from '../identities/IdentityAccess';
import type { Peer } from '../rooms/Peer';
import type { Room } from '../rooms/Room';
import { audioMotionSourceFactory, voiceMouthSourceFactory } from './audioAvatarDriver';

describe('audio avatar driver', () => {
  it("startAvatar takes driver 'camera' | 'audio' (optional) and nothing else", () => {
    expect(startAvatarRequest.safeParse({ method: 'startAvatar', data: { identityId: 'demo', driver: 'audio' } }).success).toBe(true);
    expect(startAvatarRequest.safeParse({ method: 'startAvatar', data: { identityId: 'demo' } }).success).toBe(true);
    expect(startAvatarRequest.safeParse({ method: 'startAvatar', data: { identityId: 'demo', driver: 'video' } }).success).toBe(false);
    expect(startAvatarRequest.safeParse({ method: 'startAvatar', data: { identityId: 'demo', extra: 1 } }).success).toBe(false);
  });

  it("takes mouth 'camera' | 'voice' for a camera driver; a voice driver's mouth is the voice's", () => {
    const parse = (data: object) => startAvatarRequest.safeParse({ method: 'startAvatar', data: { identityId: 'demo', ...data } }).success;
    expect(parse({ mouth: 'voice' })).toBe(true);
    expect(parse({ driver: 'camera', mouth: 'camera' })).toBe(true);
    expect(parse({ driver: 'audio', mouth: 'voice' })).toBe(true);
    expect(parse({ driver: 'audio', mouth: 'camera' })).toBe(false);
    expect(parse({ mouth: 'video' })).toBe(false);
  });

  it('refuses with BAD_REQUEST when the peer publishes no microphone', async () => {
    const peer = { producers: new Map() } as unknown as Peer;
    const factory = audioMotionSourceFactory({} as Room, peer);
    await expect(factory({} as ResolvedIdentity)).rejects.toMatchObject({ code: 'BAD_REQUEST', message: /needs a published microphone/ });
    let cameraOpened = false;
    const camera = () => {
      cameraOpened = true;
      throw new Error('not reached');
    };
    await expect(voiceMouthSourceFactory({} as Room, peer)({} as ResolvedIdentity, camera)).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    expect(cameraOpened).toBe(false); // nothing opened before the refusal
  });
});
