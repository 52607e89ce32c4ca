/**
 * The avatar rendering part of the avatar-mode panel (and of the voice-avatar panel): the identity
 * picker (granted identities only), the server session's state ("Look at the camera" while it
 * calibrates the neutral face; refusals in words) and its per-stage stats (`avatarStats`),
 * including, for a voice-driven avatar, the voice → mouth latency, and the lip sync applied for
 * listeners (their voice delay: the avatar's measured delay behind the voice + the fixed extra).
 */
import type { AvatarStateData, AvatarStats, IdentitySummaryInfo } from '@shared/avatar/avatarProtocol';
import { h } from '../ui/dom';

/** State words for a voice-driven avatar, where they differ (no camera, no calibration). */
const VOICE_STATE_TEXT: Partial<Record<AvatarStateData['state'], string>> = {
  live: 'Avatar live, driven by your voice (its mouth rests while you are silent or muted)',
  idle: 'Avatar idle (no voice reaching the server)',
  hold: 'Avatar: voice late, holding',
  easing: 'Avatar: voice lost, easing to neutral',
};

const STATE_TEXT: Record<AvatarStateData['state'], string> = {
  starting: 'Starting your avatar…',
  calibrating: 'Look at the camera — calibrating your neutral face',
  live: 'Avatar live',
  hold: 'Avatar: motion late, holding',
  easing: 'Avatar: motion lost, easing to neutral',
  idle: 'Avatar idle (no motion)',
  stopped: 'Avatar stopped',
  error: 'Avatar unavailable',
};

export class AvatarRenderPanel {
  readonly element: HTMLElement;
  readonly picker: HTMLSelectElement;
  /** Camera driver only: take the avatar's mouth from the microphone instead of the camera. */
  readonly mouthFromVoice: HTMLInputElement;
  readonly #state: HTMLElement;
  /** The last refused switch while another avatar kept running (the state line moves on at once). */
  readonly #refusal: HTMLElement;
  readonly #stats: HTMLElement;
  readonly #driver: 'camera' | 'audio';

  constructor(options: { driver?: 'camera' | 'audio' } = {}) {
    this.#driver = options.driver ?? 'camera';
    this.picker = h('select', { class: 'avatar-identity', id: 'avatar-identity', 'aria-label': 'Avatar identity' });
    this.#state = h('span', { class: 'avatar-render-state', 'data-testid': 'avatar-state', role: 'status' });
    this.#refusal = h('div', { class: 'avatar-render-refusal', 'data-testid': 'avatar-refusal', role: 'alert' });
    this.#refusal.hidden = true;
    this.#stats = h('div', { class: 'avatar-render-stats', 'data-testid': 'avatar-stats' });
    this.mouthFromVoice = h('input', { type: 'checkbox', id: 'avatar-mouth-voice', 'aria-label': 'Mouth from my voice' });
    const mouth = h('label', { class: 'avatar-mouth' }, this.mouthFromVoice, ' Mouth from my voice');
    mouth.hidden = this.#driver !== 'camera';
    this.element = h('div', { class: 'avatar-render' }, h('label', {}, 'Identity ', this.picker), ' ', mouth, ' ', this.#state, this.#refusal, this.#stats);
  }

  setIdentities(identities: readonly IdentitySummaryInfo[], selected?: string): void {
    this.picker.replaceChildren(
      ...identities.map((i) => h('option', { value: i.identityId }, `${i.displayName} (v${i.version})`)),
    );
    if (selected) this.picker.value = selected;
    this.picker.disabled = identities.length === 0;
    if (identities.length === 0) this.showState({ state: 'error', identityId: '', message: 'No identity is granted to you in this room' });
  }

  /** Clears the state and stats of an earlier avatar (the picker keeps its identities). */
  reset(): void {
    delete this.#state.dataset['state'];
    this.#state.textContent = '';
    this.#stats.textContent = '';
    this.showRefusal(undefined);
  }

  /**
   * A refused switch while another avatar keeps running: shown on its own line until the next
   * choice (the state line follows the running avatar and would replace it within a frame).
   * undefined hides it.
   */
  showRefusal(text: string | undefined): void {
    this.#refusal.textContent = text ?? '';
    this.#refusal.hidden = text === undefined;
  }

  /**
   * `cameraOff`: the participant turned their camera off; `noFace`: the camera is on but the
   * tracker finds no face in it (either way the face idles for want of motion).
   */
  showState(data: AvatarStateData, options: { cameraOff?: boolean; noFace?: boolean } = {}): void {
    this.#state.dataset['state'] = data.state;
    this.#state.textContent = avatarStateText(this.#driver, data, options.cameraOff ?? false, options.noFace ?? false);
  }

  showStats(s: AvatarStats): void {
    this.#stats.textContent = avatarStatsText(s);
  }

  /** What the panel shows now (tests). */
  get text(): { state: string; stats: string } {
    return { state: this.#state.textContent ?? '', stats: this.#stats.textContent ?? '' };
  }
}

/** The state line's words for a camera- or voice-driven avatar. */
export function avatarStateText(driver: 'camera' | 'audio', data: AvatarStateData, cameraOff: boolean, noFace = false): string {
  const text = (driver === 'audio' ? VOICE_STATE_TEXT[data.state] : undefined) ?? STATE_TEXT[data.state];
  const line = data.message ? `${text}: ${data.message}` : text;
  // With the camera off, or no face in it, nothing reaches the server: say why the face idles,
  // and the way out.
  const waiting = data.state === 'calibrating' || data.state === 'hold' || data.state === 'easing' || data.state === 'idle';
  if (driver !== 'camera' || !waiting) return line;
  if (cameraOff) return `${line} — your camera is off: turn it on to drive your avatar`;
  if (noFace) return `${line} — no face in your camera: face it, with your face in the light`;
  return line;
}

/** The stats line: rendering figures, then voice → mouth (voice-driven only) and the lip sync for listeners. */
export function avatarStatsText(s: AvatarStats): string {
  const ms = (v: number | null) => (v === null ? '–' : `${v.toFixed(0)} ms`);
  const dropped = Object.values(s.framesDropped).reduce((a, b) => a + b, 0);
  const audio = s.audioToLip
    ? ` · audio→lip ${ms(s.audioToLip.speechToMouthMsP50)} (p95 ${ms(s.audioToLip.speechToMouthMsP95)}; look-ahead ${ms(s.audioToLip.lookaheadMs)}, ` +
      `audio model ${ms(s.audioToLip.inferenceMsP50)})`
    : '';
  const sync = s.avSync
    ? s.avSync.audioDelayMs === null
      ? ' · A/V sync: not applied yet'
      : ` · A/V sync: listeners delay your voice ${ms(s.avSync.audioDelayMs)} (avatar ${ms(s.avSync.measuredDelayMs)} behind it ` +
        `${s.avSync.extraMs >= 0 ? '+' : '−'} ${Math.abs(s.avSync.extraMs).toFixed(0)} ms)`
    : '';
  return (
    `avatar ${s.fps.toFixed(1)} fps · rendered ${s.framesRendered} · dropped ${dropped} · late ${s.lateTicks} · ` +
    `motion age ${ms(s.motionAgeMsP50)} · inference ${ms(s.inferenceMsP50)} · encode ${ms(s.encodeMsP50)} · ` +
    `motion→RTP ${ms(s.playedToSentMsP50)} (p95 ${ms(s.playedToSentMsP95)}) · ${s.sentKbps.toFixed(0)}/${s.bitrateKbps} kbps · ` +
    `key frames ${s.keyframes} · blinks ${s.blinks}${audio}${sync}`
  );
}
