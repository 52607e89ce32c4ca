/**
 * What a tile's state badge says, from the transport state and the tracks it shows, and the phase
 * of this page's own avatar (from the server's `avatarState`) shown on the local tile.
 */
import type { AvatarSessionState } from '@shared/avatar/avatarProtocol';
import type { TransportState } from '../call/callTypes';

/**
 * This page's own avatar, as the local tile needs it: `none` (off, stopped or refused), `starting`
 * (the server loads the identity), `calibrating` (camera driver: look at the camera), `running`
 * (rendering: its track is on the way or shown).
 */
export type OwnAvatarPhase = 'none' | 'starting' | 'calibrating' | 'running';

export interface TileStateInput {
  transport: TransportState;
  hasVideo: boolean;
  hasAudio: boolean;
  videoPaused: boolean;
  audioPaused: boolean;
  /** The video element has rendered a frame. */
  videoPlaying: boolean;
  /** An AI avatar track of this participant is in the tile (it is shown instead of the camera). */
  hasAvatar?: boolean;
  /** The avatar's video element has rendered a frame. */
  avatarPlaying?: boolean;
  /** Local tile only: this page's own avatar as the server reports it. */
  ownAvatar?: OwnAvatarPhase;
}

export type TileStateLabel =
  | 'connecting'
  | 'reconnecting'
  | 'failed'
  | 'live'
  | 'video paused'
  | 'audio only'
  | 'muted'
  | 'no camera or mic'
  | 'waiting for video'
  | 'starting avatar…'
  | 'look at the camera…';

export function tileStateLabel(input: TileStateInput): TileStateLabel {
  const ownAvatar = input.ownAvatar ?? 'none';
  const anything = input.hasVideo || input.hasAudio || Boolean(input.hasAvatar) || ownAvatar !== 'none';
  switch (input.transport) {
    case 'failed':
    case 'closed':
      return 'failed';
    case 'disconnected':
      return 'reconnecting';
    case 'new':
    case 'connecting':
      return anything ? 'connecting' : 'no camera or mic';
    case 'connected':
      break;
  }
  // The driver's own page, while the server calibrates their neutral face from the camera.
  if (ownAvatar === 'calibrating') return 'look at the camera…';
  // The avatar, when there is one, is what the tile shows (the participant's voice plays with it).
  if (input.hasAvatar) return input.avatarPlaying ? 'live' : 'starting avatar…';
  if (ownAvatar === 'starting' || ownAvatar === 'running') return 'starting avatar…';
  if (input.hasVideo) {
    if (input.videoPaused) return input.hasAudio && !input.audioPaused ? 'video paused' : 'muted';
    return input.videoPlaying ? 'live' : 'waiting for video';
  }
  if (input.hasAudio) return input.audioPaused ? 'muted' : 'audio only';
  return 'no camera or mic';
}

/** The local tile's avatar phase for the server's latest `avatarState` of this page (undefined: none yet). */
export function ownAvatarPhase(state: AvatarSessionState | undefined): OwnAvatarPhase {
  switch (state) {
    case undefined:
    case 'stopped':
    case 'error':
      return 'none';
    case 'starting':
      return 'starting';
    case 'calibrating':
      return 'calibrating';
    case 'live':
    case 'hold':
    case 'easing':
    case 'idle':
      return 'running';
  }
}
