/** Plain data types the call layer hands to the UI and to tests. */
import type { Consumer } from 'mediasoup-client/types';
import type { MediaSource, PeerInfo, RoomClosedReason } from '@shared/signalling';
import type { InboundRtpFigures, OutboundRtpFigures } from './rtcStats';
import type { SyntheticTrack } from '@shared/signalling/syntheticTrack';

/** Someone else in the room: a human, or a track the server publishes (an avatar). */
export interface Participant extends PeerInfo {}

export interface RemoteTrack {
  readonly consumerId: string;
  readonly producerId: string;
  readonly peerId: string;
  readonly kind: 'audio' | 'video';
  readonly source: MediaSource;
  /** Set on server-synthesised tracks (avatars): the tile must say "AI avatar". */
  readonly synthetic?: SyntheticTrack;
  readonly track: MediaStreamTrack;
  readonly consumer: Consumer;
  /** Paused by the sender or the server: no media arrives until resumed. */
  paused: boolean;
}

export type TransportDirection = 'send' | 'recv';
export type TransportState = 'new' | 'connecting' | 'connected' | 'failed' | 'disconnected' | 'closed';

/** Why a session ended, for the banner the UI shows. */
export type SessionEnd =
  | { type: 'left' }
  | { type: 'roomClosed'; reason: RoomClosedReason; message: string }
  | { type: 'disconnected'; reason: string }
  | { type: 'failed'; message: string };

/** One remote track's receive figures, from RTCPeerConnection stats (`inbound-rtp`). */
export interface InboundTrackStats extends InboundRtpFigures {
  consumerId: string;
  peerId: string;
  displayName: string;
  kind: 'audio' | 'video';
  source: MediaSource;
  paused: boolean;
  /** Synthetic (AI avatar) track: the real peer driving it. */
  drivenByPeerId: string | null;
}

/** One local track's send figures (`outbound-rtp`). */
export interface OutboundTrackStats extends OutboundRtpFigures {
  producerId: string;
  kind: 'audio' | 'video';
  source: MediaSource;
}
