/**
 * An EventEmitter typed by an event map (`{ close: []; peerjoined: [Peer] }`).
 * `safeEmit` shields the emitter from throwing listeners: a bug in one subscriber must not
 * break the room or worker that emitted the event (same idea as mediasoup's enhancedEvents).
 */
import { EventEmitter } from 'node:events';

export type EventMap = Record<string, unknown[]>;

export class TypedEmitter<E extends EventMap> {
  readonly #emitter = new EventEmitter({ captureRejections: false });

  constructor() {
    // Rooms may have many subscribers (one per signalling session); the default 10 is too low.
    this.#emitter.setMaxListeners(0);
  }

  on<K extends keyof E & string>(event: K, listener: (...args: E[K]) => void): this {
    this.#emitter.on(event, listener as (...args: unknown[]) => void);
    return this;
  }

  once<K extends keyof E & string>(event: K, listener: (...args: E[K]) => void): this {
    this.#emitter.once(event, listener as (...args: unknown[]) => void);
    return this;
  }

  off<K extends keyof E & string>(event: K, listener: (...args: E[K]) => void): this {
    this.#emitter.off(event, listener as (...args: unknown[]) => void);
    return this;
  }

  listenerCount<K extends keyof E & string>(event: K): number {
    return this.#emitter.listenerCount(event);
  }

  /** Emits; a listener that throws is reported on stderr-by-logger via `onListenerError`. */
  protected safeEmit<K extends keyof E & string>(event: K, ...args: E[K]): void {
    for (const listener of this.#emitter.rawListeners(event)) {
      try {
        // rawListeners keeps `once` wrappers, which remove themselves when called.
        (listener as (...a: unknown[]) => void).apply(this, args);
      } catch (error) {
        this.onListenerError(event, error);
      }
    }
  }

  protected removeAllListeners(): void {
    this.#emitter.removeAllListeners();
  }

  protected onListenerError(event: string, error: unknown): void {
    // Subclasses with a logger override this; never rethrow.
    console.error(`listener for "${event}" threw`, error);
  }
}
