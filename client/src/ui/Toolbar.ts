/**
 * The call controls. Built-in: mic/camera mute and Leave. Features added later (avatar mode,
 * landmark overlay) put their controls here with `add()`, before the Leave button.
 */
import { h } from './dom';

export class Toolbar {
  readonly element: HTMLElement;
  readonly #extensions: HTMLElement;
  readonly #mic: HTMLButtonElement;
  readonly #camera: HTMLButtonElement;
  readonly #leave: HTMLButtonElement;

  constructor(handlers: { onLeave: () => void; onToggleMic: () => void; onToggleCamera: () => void }) {
    this.#mic = h('button', { type: 'button', id: 'toggle-mic', 'aria-pressed': 'false' }, 'Mute mic');
    this.#camera = h('button', { type: 'button', id: 'toggle-camera', 'aria-pressed': 'false' }, 'Stop camera');
    this.#leave = h('button', { type: 'button', id: 'leave-button', class: 'danger' }, 'Leave');
    this.#extensions = h('span', { class: 'toolbar-extensions', id: 'toolbar-extensions' });
    this.#mic.addEventListener('click', handlers.onToggleMic);
    this.#camera.addEventListener('click', handlers.onToggleCamera);
    this.#leave.addEventListener('click', handlers.onLeave);
    this.element = h('nav', { class: 'toolbar', id: 'toolbar', 'aria-label': 'Call controls' }, this.#mic, this.#camera, this.#extensions, this.#leave);
  }

  /** Adds a control (button, toggle, small panel) to the toolbar. */
  add(control: HTMLElement): void {
    this.#extensions.append(control);
  }

  setMicMuted(muted: boolean, available: boolean): void {
    this.#mic.disabled = !available;
    this.#mic.textContent = muted ? 'Unmute mic' : 'Mute mic';
    this.#mic.setAttribute('aria-pressed', String(muted));
  }

  setCameraOff(off: boolean, available: boolean): void {
    this.#camera.disabled = !available;
    this.#camera.textContent = off ? 'Start camera' : 'Stop camera';
    this.#camera.setAttribute('aria-pressed', String(off));
  }

  setLeaving(): void {
    this.#leave.disabled = true;
    this.#leave.textContent = 'Leaving…';
  }
}
