/**
 * The avatar signalling methods (listIdentities, startAvatar, stopAvatar), run for a joined peer
 * by SignallingSession through this one hook.
 */
import type { AvatarResults } from '@shared/avatar/avatarProtocol';
import type { SignallingRequest } from '@shared/signalling';
import type { Peer } from '../rooms/Peer';
import type { Room } from '../rooms/Room';
import type { AvatarService } from './AvatarService';
import { audioMotionSourceFactory, voiceMouthSourceFactory } from '../audio/audioAvatarDriver';

export type AvatarRequest = Extract<SignallingRequest, { method: 'listIdentities' | 'startAvatar' | 'stopAvatar' }>;

export interface AvatarRequestHandler {
  handle(joined: { room: Room; peer: Peer }, request: AvatarRequest): Promise<AvatarResults[AvatarRequest['method']]>;
}

export function avatarRequestHandler(service: AvatarService): AvatarRequestHandler {
  return {
    async handle({ room, peer }, request): Promise<AvatarResults[AvatarRequest['method']]> {
      switch (request.method) {
        case 'listIdentities': {
          const identities = await service.listIdentities(room, peer);
          const result: AvatarResults['listIdentities'] = { identities: identities.map(({ identityId, displayName, version }) => ({ identityId, displayName, version })) };
          return result;
        }
        case 'startAvatar': {
          const driver = request.data.driver ?? 'camera';
          const voiceMouth = driver === 'camera' && request.data.mouth === 'voice';
          const kind = driver === 'audio' ? 'audio' : voiceMouth ? 'camera+voice' : 'camera';
          // A session of the same identity is reused only if the same signals drive it; a refused
          // switch (identity, microphone) leaves the current avatar running.
          const session = await service.start(room, peer, request.data.identityId,
            driver === 'audio' ? audioMotionSourceFactory(room, peer) : voiceMouth ? voiceMouthSourceFactory(room, peer) : undefined,
            { kind });
          const result: AvatarResults['startAvatar'] = {
            producerId: session.producerId,
            serverPeerId: session.serverProducer.peer.id,
            identityId: session.identity.identityId,
            fps: service.fps,
          };
          return result;
        }
        case 'stopAvatar':
          await service.stop(peer);
          return {} as AvatarResults['stopAvatar'];
      }
    },
  };
}
