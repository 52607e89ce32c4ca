/**
 * "Audio only, as avatar": the in-call part of joining that way. The page publishes only the
 * microphone (App.join); this starts the server's voice-driven avatar at once
 * (`startAvatar { identityId, driver: 'audio' }`) with the identity picked in its panel — the
 * identities granted to this user in this room (`listIdentities`), the one used last time first —
 * and shows the server's state and stats there (voice → mouth latency, the lip sync applied for
 * listeners). The participant sees their own avatar like everyone else, in their own tile ("as
 * others see you", with the "AI avatar" label drawn from the server's producer info; "starting
 * avatar…" until it shows, an audio-only tile with the mic state if it is off or refused).
 *
 * Refusals are shown in the panel in words and the call goes on with the voice alone: no identity
 * granted, an identity refused (FORBIDDEN, NOT_FOUND) or unavailable (UNAVAILABLE), no microphone.
 */
import type { IdentitySummaryInfo } from '@shared/avatar/avatarProtocol';
import type { CallSession } from '../call/CallSession';
import type { CallView } from '../ui/CallView';
import { h } from '../ui/dom';
import { TypedEmitter } from '../util/TypedEmitter';
import { AvatarRenderPanel } from './AvatarRenderPanel';
import './avatar.css';
import { userMessage } from '../call/SignallingError';

const IDENTITY_KEY = 'avatar-call.voiceAvatarIdentity';

export type VoiceAvatarState = 'off' | 'starting' | 'on' | 'refused';

export type VoiceAvatarEvents = {
  statechange: [VoiceAvatarState];
  error: [Error];
};

/** The identity to start with: the remembered one if still granted, else the first granted. */
export function initialIdentity(identities: readonly IdentitySummaryInfo[], remembered: string | null): string | undefined {
  return identities.find((i) => i.identityId === remembered)?.identityId ?? identities[0]?.identityId;
}

function remembered(): string | null {
  try {
    return localStorage.getItem(IDENTITY_KEY);
  } catch {
    return null;
  }
}

function remember(identityId: string): void {
  try {
    localStorage.setItem(IDENTITY_KEY, identityId);
  } catch {
    // not remembering the choice is harmless
  }
}

export class VoiceAvatar extends TypedEmitter<VoiceAvatarEvents> {
  readonly element: HTMLElement;
  readonly #session: CallSession;
  readonly #render = new AvatarRenderPanel({ driver: 'audio' });
  readonly #button: HTMLButtonElement;
  readonly #unsubscribe: (() => void)[] = [];
  #state: VoiceAvatarState = 'off';
  #identities: IdentitySummaryInfo[] = [];
  #identityId: string | undefined;
  /** Number of the latest start (an earlier one's refusal is stale). */
  #starts = 0;
  #closed = false;

  constructor(options: { session: CallSession; view: CallView }) {
    super();
    this.#session = options.session;
    this.#button = h('button', { type: 'button', id: 'toggle-voice-avatar', 'aria-pressed': 'false' }, 'Voice avatar');
    this.#button.addEventListener('click', () => void (this.#state === 'on' ? this.stop() : this.start()).catch(() => undefined));
    this.element = h('aside', { class: 'motion-stats voice-avatar', id: 'voice-avatar', 'aria-label': 'Voice avatar' }, this.#button, ' ', this.#render.element);
    options.view.toolbar.add(this.element);
    this.#render.picker.addEventListener('change', () => void this.start(this.#render.picker.value).catch(() => undefined));
    this.#unsubscribe.push(
      options.session.on('avatarstate', (data) => {
        if (this.#state === 'starting' || this.#state === 'on') this.#render.showState(data);
      }),
      options.session.on('avatarstats', (stats) => {
        if (this.#state === 'on') this.#render.showStats(stats);
      }),
    );
  }

  get state(): VoiceAvatarState {
    return this.#state;
  }

  get identityId(): string | undefined {
    return this.#identityId;
  }

  /**
   * Starts (or switches to `identityId`) the voice-driven avatar. Rejects with the reason (also
   * shown in the panel): nothing granted, or the server's refusal ("FORBIDDEN: …").
   */
  async start(identityId?: string): Promise<void> {
    if (this.#closed) return;
    const start = ++this.#starts;
    this.#setState('starting');
    try {
      if (this.#identities.length === 0) {
        this.#identities = await this.#session.listIdentities();
        if (this.#identities.length === 0) throw new Error('no avatar identity is granted to you in this room; the others hear your voice only');
      }
      const id = identityId ?? this.#identityId ?? initialIdentity(this.#identities, remembered());
      if (!id) throw new Error('no identity to start');
      this.#identityId = id;
      this.#render.setIdentities(this.#identities, id);
      await this.#session.startAvatar(id, 'audio');
      if (start !== this.#starts || this.#closed) return;
      remember(id);
      this.#setState('on');
    } catch (error) {
      if (start !== this.#starts || this.#closed) return;
      const failure = error instanceof Error ? error : new Error(String(error));
      this.#render.showState({ state: 'error', identityId: identityId ?? this.#identityId ?? '', message: userMessage(failure) });
      this.#setState('refused');
      this.emit('error', failure);
      throw failure;
    }
  }

  /** Stops the avatar (the voice goes on alone). */
  async stop(): Promise<void> {
    if (this.#closed) return;
    ++this.#starts;
    await this.#session.stopAvatar().catch((error: unknown) => console.warn('stopAvatar failed', error));
    this.#render.reset();
    this.#setState('off');
  }

  /** The panel's text (tests read it through `window.__avatar.voice()`). */
  get panelText(): { state: string; stats: string } {
    return this.#render.text;
  }

  /** Idempotent: removes the panel and stops listening (the server closes the avatar with the call). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const off of this.#unsubscribe.splice(0)) off();
    this.element.remove();
    this.removeAllListeners();
  }

  #setState(state: VoiceAvatarState): void {
    this.#state = state;
    this.#button.textContent = state === 'on' ? 'Voice avatar: on' : state === 'starting' ? 'Voice avatar: starting…' : 'Voice avatar: off';
    this.#button.setAttribute('aria-pressed', String(state === 'on'));
    this.#button.disabled = state === 'starting';
    document.body.dataset['voiceAvatar'] = state;
    this.emit('statechange', state);
  }
}
