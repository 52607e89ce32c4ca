/**
 * The audio driver of an avatar session: `startAvatar { identityId, driver: 'audio' }` renders the
 * identity from the peer's microphone (its `mic` Opus producer) instead of the camera motion
 * uplink. The shipped audio-to-mouth model (`models/audio/`; the factories take another directory,
 * for tests) is read once and cached.
 */
import path from 'node:path';
import type { ResolvedIdentity } from '../identities/IdentityAccess';
import type { Peer } from '../rooms/Peer';
import type { Room } from '../rooms/Room';
import { BadRequestError } from '../signalling/SignallingError';
import type { MotionSource } from '../avatar/MotionSource';
import type { AudioMotionSource } from './AudioMotionSource';
import { startAudioMotion } from './startAudioMotion';
import { VoiceMouthSource } from './VoiceMouthSource';
import { loadAudioModelManifest, type AudioToMouthModelFiles } from './StreamingAudioToMouth';

export const DEFAULT_AUDIO_MODEL_DIR = path.resolve(import.meta.dirname, '../../../models/audio');
let cached: { dir: string; files: AudioToMouthModelFiles } | undefined;

function model(dir: string): AudioToMouthModelFiles {
  if (cached?.dir !== dir) cached = { dir, files: loadAudioModelManifest(dir) };
  return cached.files;
}

/**
 * A MotionSource factory for AvatarService.start: taps `peer`'s microphone producer and drives the
 * identity's neutral landmarks with it. Throws BAD_REQUEST when the peer publishes no microphone.
 */
export function audioMotionSourceFactory(room: Room, peer: Peer, modelDir = DEFAULT_AUDIO_MODEL_DIR, what = 'an audio-driven avatar') {
  return async (identity: ResolvedIdentity): Promise<AudioMotionSource> => {
    const mic = [...peer.producers.values()].find((p) => p.kind === 'audio' && p.appData.source === 'mic' && !p.closed);
    if (!mic) throw new BadRequestError(`${what} needs a published microphone`);
    const { width, height } = identity.manifest.identity.imageSize;
    const audio = await startAudioMotion(room.router, mic.id, {
      referenceLandmarks: Float32Array.from(identity.manifest.identity.neutralLandmarks),
      imageWidth: width,
      imageHeight: height,
    }, model(modelDir), { logger: peer.log.child({ component: 'AudioMotionSource', identityId: identity.identityId }) });
    return audio.source;
  };
}

/**
 * A MotionSource factory for `startAvatar { mouth: 'voice' }`: the peer's camera motion with the
 * mouth from its microphone (VoiceMouthSource). Throws BAD_REQUEST without a microphone.
 */
export function voiceMouthSourceFactory(room: Room, peer: Peer, modelDir = DEFAULT_AUDIO_MODEL_DIR) {
  const voiceFactory = audioMotionSourceFactory(room, peer, modelDir, "the avatar's mouth from your voice");
  return async (identity: ResolvedIdentity, camera: () => MotionSource): Promise<VoiceMouthSource> => {
    const voice = await voiceFactory(identity);
    return new VoiceMouthSource(camera(), voice);
  };
}
