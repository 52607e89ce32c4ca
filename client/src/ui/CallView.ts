/**
 * The in-call screen: the toolbar and a grid with the local preview and one tile per person,
 * kept in step with a CallSession's events. `destroy()` detaches it.
 *
 * One tile per person: an AI avatar (a track of a server peer, marked synthetic with the peer who
 * drives it) is shown inside its driver's tile, with their voice and the "AI avatar" label —
 * this page's own avatar inside the local tile, as the others see it (`tilePlacement`). A server
 * peer gets a tile of its own only for a track that is not an avatar. The local tile's badge
 * follows the mic and this page's own avatar ("starting avatar…" until it shows).
 */
import type { CallSession } from '../call/CallSession';
import type { Participant, RemoteTrack } from '../call/callTypes';
import type { LocalMedia } from '../media/LocalMedia';
import { h } from './dom';
import { ParticipantTile } from './ParticipantTile';
import { tilePlacement } from './tilePlacement';
import { ownAvatarPhase } from './tileState';
import { Toolbar } from './Toolbar';

export class CallView {
  readonly element: HTMLElement;
  readonly toolbar: Toolbar;
  readonly #grid: HTMLElement;
  readonly #session: CallSession;
  readonly #localMedia: LocalMedia;
  readonly #localTile: ParticipantTile;
  readonly #tiles = new Map<string, ParticipantTile>();
  /** The tile each remote track is shown in, by consumer id. */
  readonly #trackTiles = new Map<string, ParticipantTile>();
  readonly #unsubscribe: (() => void)[] = [];
  #micMuted = false;
  #cameraOff = false;
  /**
   * True while avatar mode keeps the camera unpublished on purpose: turning the camera on then
   * only enables the local track (for face tracking); otherwise an unpublished camera is published.
   */
  cameraWithheld = false;

  constructor(options: { session: CallSession; localMedia: LocalMedia; onLeave: () => void }) {
    const { session, localMedia } = options;
    this.#session = session;
    this.#localMedia = localMedia;
    this.toolbar = new Toolbar({
      onLeave: () => {
        this.toolbar.setLeaving();
        options.onLeave();
      },
      onToggleMic: () => void this.#toggle('mic'),
      onToggleCamera: () => void this.#toggle('camera'),
    });
    this.#grid = h('section', { class: 'grid', id: 'tiles', 'aria-label': 'Participants' });
    this.element = h('div', { class: 'call' }, this.#grid, this.toolbar.element);

    this.#localTile = new ParticipantTile({ peerId: session.peerId, displayName: session.displayName, local: true });
    const video = localMedia.videoTrack;
    const audio = localMedia.audioTrack;
    if (video) this.#localTile.addTrack('local-video', 'video', video);
    // Never played here: it only tells the badge that the mic is on (or muted).
    if (audio) this.#localTile.addTrack('local-audio', 'audio', audio);
    this.#localTile.setTransportState(session.transportState('send'));
    this.#grid.append(this.#localTile.element);
    this.toolbar.setMicMuted(false, Boolean(audio));
    this.toolbar.setCameraOff(false, Boolean(video));

    for (const participant of session.participants.values()) this.#onParticipantJoined(participant);
    for (const remote of session.tracks.values()) this.#addTrack(remote);
    this.#unsubscribe.push(
      session.on('participantjoined', (participant) => this.#onParticipantJoined(participant)),
      session.on('participantleft', (participant) => this.#removeParticipant(participant.id)),
      session.on('trackadded', (remote) => this.#addTrack(remote)),
      session.on('trackremoved', (remote) => this.#removeTrack(remote)),
      session.on('trackupdated', (remote) => this.#tileOf(remote)?.setTrackPaused(remote.consumerId, remote.paused)),
      session.on('avatarstate', (data) => this.#localTile.setOwnAvatarPhase(ownAvatarPhase(data.state))),
      session.on('transportstate', (direction, state) => {
        if (direction === 'send') this.#localTile.setTransportState(state);
        else for (const tile of this.#tiles.values()) tile.setTransportState(state);
      }),
    );
  }

  /** The user's "Stop camera" choice. */
  get cameraOff(): boolean {
    return this.#cameraOff;
  }

  /** Tiles by peer id (the local tile excluded). */
  get tiles(): ReadonlyMap<string, ParticipantTile> {
    return this.#tiles;
  }

  get localTile(): ParticipantTile {
    return this.#localTile;
  }

  destroy(): void {
    for (const off of this.#unsubscribe.splice(0)) off();
    for (const tile of this.#tiles.values()) tile.remove();
    this.#tiles.clear();
    this.#trackTiles.clear();
    this.#localTile.remove();
    this.element.remove();
  }

  /** A human's tile appears at once; a server peer's only with a track of its own (see #addTrack). */
  #onParticipantJoined(participant: Participant): void {
    if (participant.kind === 'human' || this.#tiles.has(participant.id)) this.#tileFor(participant);
  }

  /** The participant's tile, created if needed (its name refreshed if it exists). */
  #tileFor(participant: Participant): ParticipantTile {
    const existing = this.#tiles.get(participant.id);
    if (existing) {
      existing.setDisplayName(participant.displayName);
      return existing;
    }
    const tile = new ParticipantTile({ peerId: participant.id, displayName: participant.displayName, kind: participant.kind });
    tile.setTransportState(this.#session.transportState('recv'));
    this.#tiles.set(participant.id, tile);
    this.#grid.append(tile.element);
    return tile;
  }

  #removeParticipant(peerId: string): void {
    const tile = this.#tiles.get(peerId);
    if (!tile) return;
    tile.remove();
    this.#tiles.delete(peerId);
    for (const [consumerId, shownIn] of this.#trackTiles) if (shownIn === tile) this.#trackTiles.delete(consumerId);
  }

  #addTrack(remote: RemoteTrack): void {
    const placement = tilePlacement(remote, this.#session.peerId);
    if (placement.tile === 'none') return;
    let tile = this.#localTile;
    if (placement.tile === 'remote') {
      // An avatar whose driver is not (or no longer) here stays with its server peer until it closes.
      const participant = this.#session.participants.get(placement.peerId) ??
        this.#session.participants.get(remote.peerId) ?? { id: remote.peerId, displayName: 'Participant', kind: 'human' as const };
      tile = this.#tileFor(participant);
    }
    this.#trackTiles.set(remote.consumerId, tile);
    tile.addTrack(remote.consumerId, remote.kind, remote.track, remote.paused, placement.slot);
  }

  #removeTrack(remote: RemoteTrack): void {
    const tile = this.#trackTiles.get(remote.consumerId);
    this.#trackTiles.delete(remote.consumerId);
    if (!tile) return;
    tile.removeTrack(remote.consumerId);
    // A server peer's tile goes with its last track (an avatar's server peer never has one).
    if (!tile.local && tile.kind === 'server' && ![...this.#trackTiles.values()].includes(tile)) this.#removeParticipant(tile.peerId);
  }

  #tileOf(remote: RemoteTrack): ParticipantTile | undefined {
    return this.#trackTiles.get(remote.consumerId);
  }

  async #toggle(source: 'mic' | 'camera'): Promise<void> {
    const track = source === 'mic' ? this.#localMedia.audioTrack : this.#localMedia.videoTrack;
    if (!track) return;
    const off = source === 'mic' ? (this.#micMuted = !this.#micMuted) : (this.#cameraOff = !this.#cameraOff);
    track.enabled = !off;
    if (source === 'mic') {
      this.toolbar.setMicMuted(off, true);
      this.#localTile.setTrackPaused('local-audio', off);
    } else {
      this.toolbar.setCameraOff(off, true);
      this.#localTile.setTrackPaused('local-video', off);
    }
    try {
      // The camera was left unpublished while off (e.g. after avatar mode): publish it now.
      if (source === 'camera' && !off && !this.cameraWithheld && !this.#session.producer('camera')) await this.#session.publish(track, 'camera');
      else await this.#session.setPaused(source, off);
    } catch (error) {
      console.warn(`cannot ${off ? 'pause' : 'resume'} ${source}`, error);
    }
  }
}
