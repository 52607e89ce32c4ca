/**
 * An EventEmitter typed by an event map (`{ close: []; peerjoined: [Peer] }`), so `once(room,
 * 'close')` from node:events works in tests. `safeEmit` shields the emitter from throwing
 * listeners: a bug in one subscriber must not break the room or worker that emitted the event
 * (the same idea as mediasoup's enhancedEvents).
 * The browser has its own (client/src/util/TypedEmitter.ts): this one must stay a real node
 * EventEmitter, because tests and callers await `events.once(x, 'close')`, which needs node's
 * once/removeListener/'error' wiring.
 */
import { EventEmitter } from 'node:events';

export type EventMap = Record<string, unknown[]>;
type Listener = (...args: any[]) => void; // eslint-disable-line @typescript-eslint/no-explicit-any

export class TypedEmitter<E extends EventMap> extends EventEmitter {
  constructor() {
    super();
    // Rooms may have many subscribers (one per signalling session); the default 10 is too low.
    this.setMaxListeners(0);
  }

  override on<K extends keyof E & string>(event: K, listener: (...args: E[K]) => void): this {
    return super.on(event, listener as Listener);
  }

  override once<K extends keyof E & string>(event: K, listener: (...args: E[K]) => void): this {
    return super.once(event, listener as Listener);
  }

  override off<K extends keyof E & string>(event: K, listener: (...args: E[K]) => void): this {
    return super.off(event, listener as Listener);
  }

  /** Typed `emit`; prefer `safeEmit` inside the class. */
  override emit<K extends keyof E & string>(event: K, ...args: E[K]): boolean {
    return super.emit(event, ...args);
  }

  /** Emits to every listener; a listener that throws is reported and the rest still run. */
  protected safeEmit<K extends keyof E & string>(event: K, ...args: E[K]): boolean {
    const listeners = this.rawListeners(event) as Listener[];
    for (const listener of listeners) {
      try {
        // rawListeners keeps `once` wrappers, which remove themselves when called.
        listener.apply(this, args);
      } catch (error) {
        this.onListenerError(event, error);
      }
    }
    return listeners.length > 0;
  }

  protected onListenerError(event: string, error: unknown): void {
    // Subclasses with a logger override this; never rethrow.
    console.error(`listener for "${event}" threw`, error);
  }
}
