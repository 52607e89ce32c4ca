/** The alert strip under the top bar: why the call ended, with an optional action button. */
import { h } from './dom';

export class Banner {
  readonly #element: HTMLElement;

  constructor(element: HTMLElement) {
    this.#element = element;
  }

  show(message: string, action?: { label: string; run: () => void }, kind: 'error' | 'info' = 'error'): void {
    this.#element.replaceChildren(h('span', { class: 'banner-text' }, message));
    if (action) {
      const button = h('button', { type: 'button', class: 'banner-action' }, action.label);
      button.addEventListener('click', action.run, { once: true });
      this.#element.append(button);
    }
    this.#element.dataset['kind'] = kind;
    this.#element.hidden = false;
  }

  hide(): void {
    this.#element.hidden = true;
    this.#element.replaceChildren();
  }

  get text(): string {
    return this.#element.hidden ? '' : (this.#element.querySelector('.banner-text')?.textContent ?? '');
  }
}
