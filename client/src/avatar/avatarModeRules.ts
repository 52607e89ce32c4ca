/**
 * The decisions of avatar mode that do not touch the DOM or the network, kept pure so they are
 * tested on their own: whether the camera goes back out when avatar mode ends, whether avatar
 * mode may start at all, and what the identity picker shows after a refused switch.
 */
import type { AvatarStateData, IdentitySummaryInfo } from '@shared/avatar/avatarProtocol';

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

/**
 * The identity the server is rendering for this page after an `avatarState` notification, from
 * the one before: set by a running phase, cleared by `stopped`; `starting` and `error` leave it
 * (a refused switch leaves the running avatar as it was).
 */
export function renderedIdentity(previous: string | undefined, data: Pick<AvatarStateData, 'state' | 'identityId'>): string | undefined {
  switch (data.state) {
    case 'calibrating':
    case 'live':
    case 'hold':
    case 'easing':
    case 'idle':
      return data.identityId;
    case 'stopped':
      return undefined;
    case 'starting':
    case 'error':
      return previous;
  }
}

/**
 * After the server refused `refused` (its message `message`): the identity the picker goes back to
 * (the one still rendering, if another one is) and the message the panel shows.
 */
export function afterRefusedSwitch(refused: string, message: string, rendering: string | undefined): { picker: string; message: string } {
  if (rendering === undefined || rendering === refused) return { picker: refused, message };
  return { picker: rendering, message: `${message} (your avatar stays "${rendering}")` };
}
