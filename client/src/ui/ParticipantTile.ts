/**
 * One participant's tile: their video (or initials), their AI avatar when they use one, a hidden
 * audio element, name and a state badge. Remote tiles play the participant's audio; the local
 * tile is a muted preview and never plays this page's own microphone (its track only tells the
 * badge whether the mic is on).
 *
 * An avatar track (slot `avatar`) is shown instead of the camera, with the participant's voice
 * still playing from the tile's audio element, and with a permanent "AI avatar" label drawn by
 * this page (from the server's producer info: the driver has no way to remove it). On the local
 * tile the avatar is shown as the others see it (not mirrored) and the camera preview, if any,
 * moves to a small inset (the landmark overlay goes with it, inside `.tile-camera`).
 */
import type { TransportState } from '../call/callTypes';
import { h } from './dom';
import { initialsOf } from './participantText';
import { tileStateLabel, type OwnAvatarPhase } from './tileState';

export type TileSlot = 'media' | 'avatar';

interface TileTrack {
  id: string;
  kind: 'audio' | 'video';
  slot: TileSlot;
  track: MediaStreamTrack;
  paused: boolean;
}

export class ParticipantTile {
  readonly element: HTMLElement;
  readonly peerId: string;
  readonly local: boolean;
  readonly kind: 'human' | 'server';
  /** Holds the camera video; avatar mode draws its landmark overlay in here. */
  readonly cameraElement: HTMLElement;
  readonly #video: HTMLVideoElement;
  readonly #avatarVideo: HTMLVideoElement;
  readonly #audio: HTMLAudioElement;
  readonly #name: HTMLElement;
  readonly #initials: HTMLElement;
  readonly #state: HTMLElement;
  readonly #aiLabel: HTMLElement;
  readonly #ownNote: HTMLElement;
  /** "mic off" beside a live picture (an audio-only tile says "muted" in its badge instead). */
  readonly #micOff: HTMLElement;
  readonly #tracks = new Map<string, TileTrack>();
  #transport: TransportState = 'new';
  #videoPlaying = false;
  #avatarPlaying = false;
  #ownAvatar: OwnAvatarPhase = 'none';

  constructor(options: { peerId: string; displayName: string; local?: boolean; kind?: 'human' | 'server' }) {
    this.peerId = options.peerId;
    this.local = Boolean(options.local);
    this.kind = options.kind ?? 'human';
    this.#video = mutedVideo('tile-video tile-camera-video');
    this.#avatarVideo = mutedVideo('tile-video tile-avatar-video');
    this.#audio = h('audio', { autoplay: true, class: 'tile-audio' });
    this.#name = h('span', { class: 'tile-name' });
    this.#state = h('span', { class: 'tile-state' });
    this.#initials = h('span', { class: 'tile-initials', 'aria-hidden': 'true' });
    this.#aiLabel = h('span', { class: 'tile-ai-label', role: 'note', 'aria-label': 'AI-generated video' }, 'AI avatar');
    this.#ownNote = h('span', { class: 'tile-note' }, 'as others see you');
    this.#micOff = h('span', { class: 'tile-mic-off' }, 'mic off');
    this.cameraElement = h('div', { class: 'tile-camera' }, this.#video);
    this.element = h(
      'figure',
      { class: 'tile', 'data-peer-id': options.peerId, 'data-local': this.local, 'data-kind': this.kind },
      this.#initials,
      this.cameraElement,
      this.#avatarVideo,
      this.#audio,
      h('figcaption', {}, this.#name, this.#state, this.#micOff),
    );
    this.setDisplayName(options.displayName);
    this.#video.addEventListener('playing', () => this.#setPlaying('media', true));
    this.#video.addEventListener('emptied', () => this.#setPlaying('media', false));
    this.#avatarVideo.addEventListener('playing', () => this.#setPlaying('avatar', true));
    this.#avatarVideo.addEventListener('emptied', () => this.#setPlaying('avatar', false));
    this.#render();
  }

  get stateLabel(): string {
    return this.#state.textContent ?? '';
  }

  /** Whether an AI avatar is shown in this tile. */
  get showsAvatar(): boolean {
    return this.#latest('video', 'avatar') !== undefined;
  }

  setDisplayName(displayName: string): void {
    this.#name.textContent = this.local ? `${displayName} (you)` : displayName;
    this.#initials.textContent = initialsOf(displayName);
  }

  /** Adds a track; `slot: 'avatar'` for the participant's AI avatar video. */
  addTrack(id: string, kind: 'audio' | 'video', track: MediaStreamTrack, paused = false, slot: TileSlot = 'media'): void {
    this.#tracks.set(id, { id, kind, slot, track, paused });
    this.#attach(kind, slot);
  }

  removeTrack(id: string): void {
    const removed = this.#tracks.get(id);
    if (!removed) return;
    this.#tracks.delete(id);
    this.#attach(removed.kind, removed.slot);
  }

  setTrackPaused(id: string, paused: boolean): void {
    const entry = this.#tracks.get(id);
    if (!entry) return;
    entry.paused = paused;
    this.#render();
  }

  setTransportState(state: TransportState): void {
    this.#transport = state;
    this.#render();
  }

  /** Local tile: this page's own avatar as the server reports it ("starting avatar…" until it shows). */
  setOwnAvatarPhase(phase: OwnAvatarPhase): void {
    this.#ownAvatar = phase;
    this.#render();
  }

  remove(): void {
    this.#video.srcObject = null;
    this.#avatarVideo.srcObject = null;
    this.#audio.srcObject = null;
    this.element.remove();
  }

  #latest(kind: 'audio' | 'video', slot: TileSlot): TileTrack | undefined {
    return [...this.#tracks.values()].filter((t) => t.kind === kind && t.slot === slot).at(-1);
  }

  /** Shows the newest track of `kind` in `slot` (a participant normally has at most one of each). */
  #attach(kind: 'audio' | 'video', slot: TileSlot): void {
    // This page's own voice is never played back to it.
    if (kind === 'audio' && this.local) return this.#render();
    const latest = this.#latest(kind, slot);
    const element = kind === 'audio' ? this.#audio : slot === 'avatar' ? this.#avatarVideo : this.#video;
    const current = element.srcObject instanceof MediaStream ? element.srcObject.getTracks()[0] : undefined;
    if (current !== latest?.track) {
      element.srcObject = latest ? new MediaStream([latest.track]) : null;
      if (kind === 'video') this.#setPlaying(slot, false);
      // play() can be refused by autoplay rules before a user gesture; the page joins on a
      // click, so this normally succeeds; if not, the state badge still tells the truth.
      if (latest) element.play().catch(() => undefined);
    }
    this.#render();
  }

  #setPlaying(slot: TileSlot, playing: boolean): void {
    if (slot === 'avatar') this.#avatarPlaying = playing;
    else this.#videoPlaying = playing;
    this.#render();
  }

  #render(): void {
    const video = this.#latest('video', 'media');
    const avatar = this.#latest('video', 'avatar');
    const audio = this.#latest('audio', 'media');
    const hasAvatar = Boolean(avatar) && !avatar?.paused;
    const label = tileStateLabel({
      transport: this.#transport,
      hasVideo: Boolean(video),
      hasAudio: Boolean(audio),
      videoPaused: video?.paused ?? false,
      audioPaused: audio?.paused ?? false,
      videoPlaying: this.#videoPlaying,
      hasAvatar,
      avatarPlaying: this.#avatarPlaying,
      ownAvatar: this.#ownAvatar,
    });
    this.#state.textContent = label;
    const data = this.element.dataset;
    data['state'] = label;
    // The camera shows when there is no avatar; on the local tile it stays, as an inset.
    const cameraVisible = Boolean(video) && !video?.paused && (!hasAvatar || this.local);
    data['hasVideo'] = String(cameraVisible || hasAvatar);
    data['cameraVisible'] = String(cameraVisible);
    data['avatarVisible'] = String(hasAvatar);
    data['mic'] = !audio ? 'none' : audio.paused ? 'off' : 'on';
    this.#micOff.hidden = !audio?.paused || label === 'muted';
    // The disclosure follows the avatar track itself, whoever drives it and whatever it shows.
    if (avatar) {
      data['synthetic'] = 'ai-avatar';
      if (!this.#aiLabel.isConnected) this.element.append(this.#aiLabel);
    } else {
      delete data['synthetic'];
      this.#aiLabel.remove();
    }
    if (avatar && this.local) {
      data['ownAvatar'] = 'true';
      if (!this.#ownNote.isConnected) this.#name.after(this.#ownNote);
    } else {
      delete data['ownAvatar'];
      this.#ownNote.remove();
    }
  }
}

function mutedVideo(className: string): HTMLVideoElement {
  const video = h('video', { autoplay: true, playsinline: true, muted: true, class: className });
  video.muted = true; // the property, not just the attribute, decides autoplay
  return video;
}
