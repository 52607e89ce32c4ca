/** What a tile's state badge says, from the transport state and the tracks it shows. */
import type { TransportState } from '../call/callTypes';

export interface TileStateInput {
  transport: TransportState;
  hasVideo: boolean;
  hasAudio: boolean;
  videoPaused: boolean;
  audioPaused: boolean;
  /** The video element has rendered a frame. */
  videoPlaying: boolean;
}

export type TileStateLabel = 'connecting' | 'reconnecting' | 'failed' | 'live' | 'video paused' | 'audio only' | 'muted' | 'no media' | 'waiting for video';

export function tileStateLabel(input: TileStateInput): TileStateLabel {
  switch (input.transport) {
    case 'failed':
    case 'closed':
      return 'failed';
    case 'disconnected':
      return 'reconnecting';
    case 'new':
    case 'connecting':
      return input.hasVideo || input.hasAudio ? 'connecting' : 'no media';
    case 'connected':
      break;
  }
  if (input.hasVideo) {
    if (input.videoPaused) return input.hasAudio && !input.audioPaused ? 'video paused' : 'muted';
    return input.videoPlaying ? 'live' : 'waiting for video';
  }
  if (input.hasAudio) return input.audioPaused ? 'muted' : 'audio only';
  return 'no media';
}
