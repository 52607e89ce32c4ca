/**
 * The decisions of avatar mode that do not touch the DOM or the network, kept pure so they are
 * tested on their own: whether the camera goes back out when avatar mode ends, and whether
 * avatar mode may start at all.
 */
import type { IdentitySummaryInfo } from '@shared/avatar/avatarProtocol';

/** The camera state the page holds: the track (if any) and whether the user turned it off. */
export interface CameraState {
  track: Pick<MediaStreamTrack, 'readyState' | 'enabled'> | undefined;
  /** The user's "Stop camera" choice (CallView). */
  cameraOff: boolean;
}

/**
 * Whether the camera is published again when avatar mode ends: only a live track the user has
 * not turned off (a stopped or disabled one would show others a black tile marked live).
 */
export function shouldRepublishCamera({ track, cameraOff }: CameraState): boolean {
  return Boolean(track) && track!.readyState === 'live' && track!.enabled && !cameraOff;
}

/** The message refusing avatar mode up front, or undefined when at least one identity is granted. */
export function avatarModeRefusal(identities: readonly IdentitySummaryInfo[]): string | undefined {
  if (identities.length > 0) return undefined;
  return 'no avatar identity is granted to you in this room, so nobody would see a face; your camera stays on';
}
