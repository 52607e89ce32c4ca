/**
 * Which tile shows a remote track. One tile per person: an AI avatar track (published by a server
 * peer, its `synthetic.drivenByPeerId` naming the human who drives it) goes into the driver's tile
 * — this page's own tile when this page drives it — and is shown there instead of their camera,
 * with their voice; every other track goes into its own peer's tile.
 */
import type { RemoteTrack } from '../call/callTypes';

export type TilePlacement =
  /** Into the tile of `peerId` (a remote participant), as media (camera, voice) or as their avatar. */
  | { tile: 'remote'; peerId: string; slot: 'media' | 'avatar' }
  /** Into this page's own tile: its own avatar, as the others see it. */
  | { tile: 'local'; slot: 'avatar' }
  /** Not shown: a synthetic audio track of this page's own avatar (nobody hears their own voice). */
  | { tile: 'none' };

export function tilePlacement(track: Pick<RemoteTrack, 'peerId' | 'kind' | 'synthetic'>, ownPeerId: string): TilePlacement {
  const driver = track.synthetic?.drivenByPeerId;
  if (driver === undefined) return { tile: 'remote', peerId: track.peerId, slot: 'media' };
  const slot = track.kind === 'video' ? 'avatar' : 'media';
  if (driver === ownPeerId) return slot === 'avatar' ? { tile: 'local', slot } : { tile: 'none' };
  return { tile: 'remote', peerId: driver, slot };
}
