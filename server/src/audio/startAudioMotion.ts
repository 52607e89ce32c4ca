/**
 * Wiring for "audio only, as avatar": a participant's Opus producer -> AudioTap -> AudioMotionSource
 * on their identity's reference landmarks. The live AvatarSession renders the returned `source`
 * like any MotionSource (its samples are in the identity's image, `space: 'identity'`).
 *
 *   const audio = await startAudioMotion(room.router, micProducer.id, identity, loadAudioModelManifest(dir));
 *   avatarService.start(room, peer, identityId, audio.source);   // the live runtime's MotionSource seam
 *   ...
 *   audio.close();   // idempotent; closing the source alone (the session ending) also frees the tap
 */
import type { types as ms } from 'mediasoup';
import { AudioMotionSource, type AudioMotionOptions } from './AudioMotionSource';
import { AudioTap } from './AudioTap';
import type { AudioToMouthModelFiles } from './StreamingAudioToMouth';

export type AudioMotionIdentity = {
  /** 478*3 landmarks normalised to the identity's reference image. */
  referenceLandmarks: Float32Array;
  imageWidth: number;
  imageHeight: number;
};

export type AudioMotion = { tap: AudioTap; source: AudioMotionSource; close(): void };

export async function startAudioMotion(router: ms.Router, producerId: string, identity: AudioMotionIdentity,
  model: AudioToMouthModelFiles, options: AudioMotionOptions = {}): Promise<AudioMotion> {
  const tap = await AudioTap.create(router, producerId);
  let source: AudioMotionSource;
  try {
    source = await AudioMotionSource.create(tap, identity.referenceLandmarks, identity.imageWidth, identity.imageHeight,
      model, options);
  } catch (error) {
    tap.close();
    throw error;
  }
  // the tap closes with the producer and the source follows it; a source closed by its consumer
  // (the avatar session ending) releases the tap too
  source.once('close', () => tap.close());
  return {
    tap,
    source,
    close() {
      source.close();
      tap.close();
    },
  };
}
