/**
 * The in-call screen: the toolbar and a grid with the local preview and one tile per remote
 * participant, kept in step with a CallSession's events. `destroy()` detaches it.
 */
import type { CallSession } from '../call/CallSession';
import type { Participant, RemoteTrack } from '../call/callTypes';
import type { LocalMedia } from '../media/LocalMedia';
import { h } from './dom';
import { ParticipantTile } from './ParticipantTile';
import { Toolbar } from './Toolbar';

export class CallView {
  readonly element: HTMLElement;
  readonly toolbar: Toolbar;
  readonly #grid: HTMLElement;
  readonly #session: CallSession;
  readonly #localMedia: LocalMedia;
  readonly #localTile: ParticipantTile;
  readonly #tiles = new Map<string, ParticipantTile>();
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
    this.#localTile.setTransportState(session.transportState('send'));
    this.#grid.append(this.#localTile.element);
    this.toolbar.setMicMuted(false, Boolean(audio));
    this.toolbar.setCameraOff(false, Boolean(video));

    for (const participant of session.participants.values()) this.#addParticipant(participant);
    for (const remote of session.tracks.values()) this.#addTrack(remote);
    this.#unsubscribe.push(
      session.on('participantjoined', (participant) => this.#addParticipant(participant)),
      session.on('participantleft', (participant) => this.#removeParticipant(participant.id)),
      session.on('trackadded', (remote) => this.#addTrack(remote)),
      session.on('trackremoved', (remote) => this.#tiles.get(remote.peerId)?.removeTrack(remote.consumerId)),
      session.on('trackupdated', (remote) => this.#tiles.get(remote.peerId)?.setTrackPaused(remote.consumerId, remote.paused)),
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

  destroy(): void {
    for (const off of this.#unsubscribe.splice(0)) off();
    for (const tile of this.#tiles.values()) tile.remove();
    this.#tiles.clear();
    this.#localTile.remove();
    this.element.remove();
  }

  #addParticipant(participant: Participant): ParticipantTile {
    const existing = this.#tiles.get(participant.id);
    if (existing) return existing;
    const tile = new ParticipantTile({ peerId: participant.id, displayName: participant.displayName, kind: participant.kind });
    tile.setTransportState(this.#session.transportState('recv'));
    this.#tiles.set(participant.id, tile);
    this.#grid.append(tile.element);
    return tile;
  }

  #removeParticipant(peerId: string): void {
    this.#tiles.get(peerId)?.remove();
    this.#tiles.delete(peerId);
  }

  #addTrack(remote: RemoteTrack): void {
    const participant = this.#session.participants.get(remote.peerId) ?? {
      id: remote.peerId,
      displayName: 'Participant',
      kind: 'human' as const,
    };
    const tile = this.#addParticipant(participant);
    if (remote.synthetic) tile.markSynthetic({ own: remote.synthetic.drivenByPeerId === this.#session.peerId });
    tile.addTrack(remote.consumerId, remote.kind, remote.track, remote.paused);
  }

  async #toggle(source: 'mic' | 'camera'): Promise<void> {
    const track = source === 'mic' ? this.#localMedia.audioTrack : this.#localMedia.videoTrack;
    if (!track) return;
    const off = source === 'mic' ? (this.#micMuted = !this.#micMuted) : (this.#cameraOff = !this.#cameraOff);
    track.enabled = !off;
    if (source === 'mic') this.toolbar.setMicMuted(off, true);
    else {
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
