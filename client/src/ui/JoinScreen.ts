/**
 * The join form: room (pre-filled from /room/:id) and display name (remembered). Resolves
 * `submitted()` with validated values; the shared schemas give the same errors the server would.
 */
import { displayNameSchema, roomIdSchema } from '@shared/signalling';
import { h } from './dom';

export interface JoinChoice {
  roomId: string;
  displayName: string;
}

export class JoinScreen {
  readonly element: HTMLFormElement;
  readonly #room: HTMLInputElement;
  readonly #name: HTMLInputElement;
  readonly #error: HTMLElement;
  readonly #button: HTMLButtonElement;

  constructor(defaults: { roomId?: string; displayName: string; message?: string }) {
    this.#room = h('input', { id: 'join-room', name: 'room', required: true, maxlength: '64', autocomplete: 'off' });
    this.#room.value = defaults.roomId ?? 'demo';
    this.#name = h('input', { id: 'join-name', name: 'displayName', required: true, maxlength: '64', autocomplete: 'nickname' });
    this.#name.value = defaults.displayName;
    this.#error = h('p', { class: 'form-error', role: 'alert' });
    this.#button = h('button', { type: 'submit', id: 'join-button', class: 'primary' }, 'Join');
    this.element = h(
      'form',
      { class: 'join', id: 'join-form' },
      h('h1', {}, 'Join a call'),
      ...(defaults.message ? [h('p', { class: 'join-message' }, defaults.message)] : []),
      h('label', { for: 'join-room' }, 'Room'),
      this.#room,
      h('label', { for: 'join-name' }, 'Your name'),
      this.#name,
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
        resolve({ roomId: room.data, displayName: name.data });
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
