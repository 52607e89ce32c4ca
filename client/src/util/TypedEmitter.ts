/**
 * A small typed event emitter for the browser (node's `events` is not there).
 * Listener errors are caught and logged so one faulty listener never breaks the emitter's
 * owner (same idea as mediasoup's `safeEmit`). The server's emitter (server/src/util/TypedEmitter.ts)
 * extends node's EventEmitter so that `events.once()` works on it; this one returns an `off()`.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type EventMap = Record<string, any[]>;
type Listener<A extends unknown[]> = (...args: A) => void;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyListener = (...args: any[]) => void;

export class TypedEmitter<E extends EventMap> {
  readonly #listeners = new Map<keyof E, Set<AnyListener>>();

  /** Adds a listener; returns a function that removes it. */
  on<K extends keyof E>(event: K, listener: Listener<E[K]>): () => void {
    let set = this.#listeners.get(event);
    if (!set) {
      set = new Set();
      this.#listeners.set(event, set);
    }
    set.add(listener as AnyListener);
    return () => this.off(event, listener);
  }

  once<K extends keyof E>(event: K, listener: Listener<E[K]>): () => void {
    const off = this.on(event, (...args: E[K]) => {
      off();
      listener(...args);
    });
    return off;
  }

  off<K extends keyof E>(event: K, listener: Listener<E[K]>): void {
    this.#listeners.get(event)?.delete(listener as AnyListener);
  }

  listenerCount(event: keyof E): number {
    return this.#listeners.get(event)?.size ?? 0;
  }

  protected emit<K extends keyof E>(event: K, ...args: E[K]): void {
    const set = this.#listeners.get(event);
    if (!set) return;
    for (const listener of [...set]) {
      try {
        listener(...args);
      } catch (error) {
        console.error(`listener for "${String(event)}" threw`, error);
      }
    }
  }

  protected removeAllListeners(): void {
    this.#listeners.clear();
  }
}
