/**
 * The join form: room (pre-filled from /room/:id), display name (remembered) and how to appear:
 * with camera and microphone, or "audio only, as avatar" (the microphone only; the server renders
 * a granted identity's face from the voice, picked in the call's voice-avatar panel, which starts
 * with the identity remembered from last time). Resolves `submitted()` with validated values; the
 * shared schemas give the same errors the server would.
 */
import { displayNameSchema, roomIdSchema } from '@shared/signalling';
import { h } from './dom';

/** 'camera': microphone and camera as they are; 'audio-avatar': microphone only, shown as an AI avatar driven by the voice. */
export type JoinMode = 'camera' | 'audio-avatar';

export interface JoinChoice {
  roomId: string;
  displayName: string;
  /** Default 'camera'. */
  mode?: JoinMode;
}

export class JoinScreen {
  readonly element: HTMLFormElement;
  readonly #room: HTMLInputElement;
  readonly #name: HTMLInputElement;
  readonly #error: HTMLElement;
  readonly #button: HTMLButtonElement;
  readonly #audioAvatar: HTMLInputElement;

  constructor(defaults: { roomId?: string; displayName: string; message?: string; mode?: JoinMode }) {
    this.#room = h('input', { id: 'join-room', name: 'room', required: true, maxlength: '64', autocomplete: 'off' });
    this.#room.value = defaults.roomId ?? 'demo';
    this.#name = h('input', { id: 'join-name', name: 'displayName', required: true, maxlength: '64', autocomplete: 'nickname' });
    this.#name.value = defaults.displayName;
    this.#error = h('p', { class: 'form-error', role: 'alert' });
    this.#button = h('button', { type: 'submit', id: 'join-button', class: 'primary' }, 'Join');
    const camera = h('input', { type: 'radio', id: 'join-mode-camera', name: 'mode', value: 'camera' });
    this.#audioAvatar = h('input', { type: 'radio', id: 'join-mode-audio-avatar', name: 'mode', value: 'audio-avatar' });
    (defaults.mode === 'audio-avatar' ? this.#audioAvatar : camera).checked = true;
    const modes = h(
      'fieldset',
      { class: 'join-mode' },
      h('legend', {}, 'Join with'),
      h('label', { for: 'join-mode-camera' }, camera, ' Camera and microphone'),
      h('label', { for: 'join-mode-audio-avatar', title: 'Only your microphone is sent; the others see an AI avatar that speaks with your voice' },
        this.#audioAvatar, ' Audio only, as avatar'),
    );
    this.element = h(
      'form',
      { class: 'join', id: 'join-form' },
      h('h1', {}, 'Join a call'),
      ...(defaults.message ? [h('p', { class: 'join-message' }, defaults.message)] : []),
      h('label', { for: 'join-room' }, 'Room'),
      this.#room,
      h('label', { for: 'join-name' }, 'Your name'),
      this.#name,
      modes,
      this.#error,
      this.#button,
    );
  }

  /** Resolves on the first valid submit. */
  submitted(): Promise<JoinChoice> {
    queueMicrotask(() => (this.#name.value ? this.#button : this.#name).focus());
    return new Promise((resolve) => {
      const onSubmit = (event: SubmitEvent): void => {
        event.preventDefault();
        const room = roomIdSchema.safeParse(this.#room.value.trim());
        const name = displayNameSchema.safeParse(this.#name.value.trim());
        if (!room.success) return this.showError(room.error.issues[0]?.message ?? 'invalid room');
        if (!name.success) return this.showError(name.error.issues[0]?.message ?? 'invalid name');
        this.element.removeEventListener('submit', onSubmit);
        this.setBusy(true);
        resolve({ roomId: room.data, displayName: name.data, mode: this.#audioAvatar.checked ? 'audio-avatar' : 'camera' });
      };
      this.element.addEventListener('submit', onSubmit);
    });
  }

  showError(message: string): void {
    this.#error.textContent = message;
  }

  setBusy(busy: boolean): void {
    this.#button.disabled = busy;
    this.#button.textContent = busy ? 'Joining…' : 'Join';
  }
}
