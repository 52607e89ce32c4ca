/**
 * One participant's tile: their video (or initials), hidden audio element, name and a state
 * badge. Remote tiles play the participant's audio; the local tile is a muted preview.
 */
import type { TransportState } from '../call/callTypes';
import { h } from './dom';
import { initialsOf } from './participantText';
import { tileStateLabel } from './tileState';

interface TileTrack {
  id: string;
  kind: 'audio' | 'video';
  track: MediaStreamTrack;
  paused: boolean;
}

export class ParticipantTile {
  readonly element: HTMLElement;
  readonly peerId: string;
  readonly #video: HTMLVideoElement;
  readonly #audio: HTMLAudioElement;
  readonly #name: HTMLElement;
  readonly #state: HTMLElement;
  readonly #tracks = new Map<string, TileTrack>();
  #transport: TransportState = 'new';
  #videoPlaying = false;

  constructor(options: { peerId: string; displayName: string; local?: boolean; kind?: 'human' | 'server' }) {
    this.peerId = options.peerId;
    this.#video = h('video', { autoplay: true, playsinline: true, muted: true, class: 'tile-video' });
    this.#video.muted = true; // the property, not just the attribute, decides autoplay
    this.#audio = h('audio', { autoplay: true, class: 'tile-audio' });
    this.#name = h('span', { class: 'tile-name' }, options.local ? `${options.displayName} (you)` : options.displayName);
    this.#state = h('span', { class: 'tile-state' });
    const initials = h('span', { class: 'tile-initials', 'aria-hidden': 'true' }, initialsOf(options.displayName));
    this.element = h(
      'figure',
      { class: 'tile', 'data-peer-id': options.peerId, 'data-local': Boolean(options.local), 'data-kind': options.kind ?? 'human' },
      initials,
      this.#video,
      this.#audio,
      h('figcaption', {}, this.#name, this.#state),
    );
    this.#video.addEventListener('playing', () => this.#setVideoPlaying(true));
    this.#video.addEventListener('emptied', () => this.#setVideoPlaying(false));
    this.#render();
  }

  /**
   * Marks the tile as showing an AI avatar: a permanent "AI avatar" label drawn by this page
   * from the server's producer info (the driver has no way to remove it). `own`: it is this
   * page's own avatar, shown as the others see it.
   */
  markSynthetic(options: { own: boolean }): void {
    if (this.element.querySelector('.tile-ai-label')) return;
    this.element.dataset['synthetic'] = 'ai-avatar';
    if (options.own) {
      this.element.dataset['ownAvatar'] = 'true';
      this.#name.textContent = 'Your avatar (as others see it)';
    }
    this.element.append(h('span', { class: 'tile-ai-label', role: 'note', 'aria-label': 'AI-generated video' }, 'AI avatar'));
  }

  get stateLabel(): string {
    return this.#state.textContent ?? '';
  }

  addTrack(id: string, kind: 'audio' | 'video', track: MediaStreamTrack, paused = false): void {
    this.#tracks.set(id, { id, kind, track, paused });
    this.#attach(kind);
  }

  removeTrack(id: string): void {
    const removed = this.#tracks.get(id);
    if (!removed) return;
    this.#tracks.delete(id);
    this.#attach(removed.kind);
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

  remove(): void {
    this.#video.srcObject = null;
    this.#audio.srcObject = null;
    this.element.remove();
  }

  /** Shows the newest track of `kind` (a participant normally has at most one of each). */
  #attach(kind: 'audio' | 'video'): void {
    const latest = [...this.#tracks.values()].filter((t) => t.kind === kind).at(-1);
    const element = kind === 'video' ? this.#video : this.#audio;
    const current = element.srcObject instanceof MediaStream ? element.srcObject.getTracks()[0] : undefined;
    if (current !== latest?.track) {
      element.srcObject = latest ? new MediaStream([latest.track]) : null;
      if (kind === 'video') this.#setVideoPlaying(false);
      // play() can be refused by autoplay rules before a user gesture; the page joins on a
      // click, so this normally succeeds; if not, the state badge still tells the truth.
      if (latest) element.play().catch(() => undefined);
    }
    this.#render();
  }

  #setVideoPlaying(playing: boolean): void {
    this.#videoPlaying = playing;
    this.#render();
  }

  #render(): void {
    const tracks = [...this.#tracks.values()];
    const video = tracks.filter((t) => t.kind === 'video').at(-1);
    const audio = tracks.filter((t) => t.kind === 'audio').at(-1);
    const label = tileStateLabel({
      transport: this.#transport,
      hasVideo: Boolean(video),
      hasAudio: Boolean(audio),
      videoPaused: video?.paused ?? false,
      audioPaused: audio?.paused ?? false,
      videoPlaying: this.#videoPlaying,
    });
    this.#state.textContent = label;
    this.element.dataset['state'] = label;
    this.element.dataset['hasVideo'] = String(Boolean(video) && !video?.paused);
  }
}
