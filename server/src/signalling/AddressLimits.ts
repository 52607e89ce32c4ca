/**
 * Per client address limits on what costs the server something: open signalling connections,
 * and rooms (a mediasoup Router each) created by joins. One instance per server, shared by every
 * SignallingSession. An address with no connection, no room and a full creation bucket is
 * forgotten, so the map holds only addresses that are active or still paying back a burst.
 *
 * The address is the connection's remote address; with `trustProxy` the first entry of
 * X-Forwarded-For (the client a reverse proxy saw). IPv6 addresses count per /64, the block one
 * subscriber usually holds, so rotating through its addresses does not multiply the limits.
 */
import { isIPv6 } from 'node:net';
import type { Room } from '../rooms/Room';
import { TokenBucket } from '../util/TokenBucket';
import { SignallingError } from './SignallingError';

export type AddressLimitsConfig = {
  maxConnectionsPerAddress: number;
  roomCreationsPerMinutePerAddress: number;
  roomCreationBurstPerAddress: number;
  maxRoomsPerAddress: number;
};

type AddressState = {
  connections: number;
  /** Rooms this address created that are still open, plus creations in flight. */
  rooms: Set<Room>;
  pendingCreations: number;
  creations: TokenBucket;
};

/**
 * A room creation admitted for an address: `commit(room)` once created (true when this address is
 * the room's creator, false when another creation got there first), else `cancel()`.
 */
export type RoomCreationReservation = { commit(room: Room): boolean; cancel(): void };

export class AddressLimits {
  readonly #config: AddressLimitsConfig;
  readonly #now: () => number;
  readonly #addresses = new Map<string, AddressState>();
  /** Which address created a room (the first to commit it). */
  readonly #creatorOf = new WeakMap<Room, string>();

  constructor(config: AddressLimitsConfig, now: () => number = () => performance.now()) {
    this.#config = config;
    this.#now = now;
  }

  /** Addresses currently tracked (for tests and metrics). */
  get size(): number {
    return this.#addresses.size;
  }

  /** Open connections and rooms of an address (zeros when unknown). */
  usage(address: string): { connections: number; rooms: number } {
    const state = this.#addresses.get(address);
    return { connections: state?.connections ?? 0, rooms: (state?.rooms.size ?? 0) + (state?.pendingCreations ?? 0) };
  }

  /** Throws RATE_LIMITED when `address` already holds its maximum of connections. */
  checkConnection(address: string): void {
    const open = this.#addresses.get(address)?.connections ?? 0;
    const max = this.#config.maxConnectionsPerAddress;
    if (open >= max) throw new SignallingError('RATE_LIMITED', `too many connections from your address (at most ${max})`, true);
  }

  /** Counts a connection of `address` until the returned release() (idempotent). */
  openConnection(address: string): () => void {
    const state = this.#state(address);
    state.connections += 1;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      state.connections -= 1;
      this.#forgetIfIdle(address, state);
    };
  }

  /**
   * Admits the creation of one room by `address`: takes a token from its creation bucket and a
   * slot of its open-room limit. Throws RATE_LIMITED (retryable) when either is exhausted.
   */
  reserveRoomCreation(address: string): RoomCreationReservation {
    const state = this.#state(address);
    const max = this.#config.maxRoomsPerAddress;
    if (state.rooms.size + state.pendingCreations >= max) {
      throw new SignallingError('RATE_LIMITED', `your address already has ${max} open rooms; join one of them or wait for one to close`, true);
    }
    const nowMs = this.#now();
    if (!state.creations.tryTake(nowMs)) {
      const waitMs = Math.ceil(state.creations.msUntilNextToken(nowMs));
      throw new SignallingError('RATE_LIMITED', `too many new rooms from your address; retry in ${waitMs} ms`, true);
    }
    state.pendingCreations += 1;
    let settled = false;
    const settle = () => {
      if (settled) return false;
      settled = true;
      state.pendingCreations -= 1;
      return true;
    };
    return {
      commit: (room) => {
        if (!settle()) return false;
        if (room.closed || this.#creatorOf.has(room)) {
          this.#forgetIfIdle(address, state);
          return false;
        }
        this.#creatorOf.set(room, address);
        state.rooms.add(room);
        room.once('close', () => {
          state.rooms.delete(room);
          this.#forgetIfIdle(address, state);
        });
        return true;
      },
      cancel: () => {
        if (settle()) this.#forgetIfIdle(address, state);
      },
    };
  }

  #state(address: string): AddressState {
    let state = this.#addresses.get(address);
    if (!state) {
      state = {
        connections: 0,
        rooms: new Set(),
        pendingCreations: 0,
        creations: new TokenBucket({
          ratePerSecond: this.#config.roomCreationsPerMinutePerAddress / 60,
          capacity: this.#config.roomCreationBurstPerAddress,
        }),
      };
      this.#addresses.set(address, state);
    }
    return state;
  }

  #forgetIfIdle(address: string, state: AddressState): void {
    if (state.connections > 0 || state.rooms.size > 0 || state.pendingCreations > 0) return;
    // Keep an address that still owes tokens, or reconnecting would refill its bucket for free.
    if (state.creations.msUntilFull(this.#now()) > 0) {
      this.#sweepLater();
      return;
    }
    if (this.#addresses.get(address) === state) this.#addresses.delete(address);
  }

  #sweepTimer: NodeJS.Timeout | undefined;

  /** Forgets idle addresses once their buckets are full again (one timer for all of them). */
  #sweepLater(): void {
    if (this.#sweepTimer) return;
    this.#sweepTimer = setTimeout(() => {
      this.#sweepTimer = undefined;
      for (const [address, state] of this.#addresses) this.#forgetIfIdle(address, state);
    }, 10_000);
    this.#sweepTimer.unref();
  }

  /** Stops the sweep timer (idempotent). */
  close(): void {
    if (this.#sweepTimer) clearTimeout(this.#sweepTimer);
    this.#sweepTimer = undefined;
  }
}

/**
 * The key limits count under: the remote address (IPv4-mapped IPv6 unwrapped), or with
 * `trustProxy` the first X-Forwarded-For entry; IPv6 reduced to its /64.
 */
export function clientAddressKey(remoteAddress: string | undefined, forwardedFor: string | string[] | undefined, trustProxy: boolean): string {
  const forwarded = Array.isArray(forwardedFor) ? forwardedFor[0] : forwardedFor;
  const raw = (trustProxy && forwarded ? forwarded.split(',')[0]!.trim() : remoteAddress) ?? 'unknown';
  const address = raw.startsWith('::ffff:') && raw.includes('.') ? raw.slice(7) : raw;
  if (!isIPv6(address)) return address;
  return `${expandIPv6(address).slice(0, 4).join(':')}::/64`;
}

function expandIPv6(address: string): string[] {
  const [head, tail] = address.split('%')[0]!.split('::') as [string, string | undefined];
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const middle = tail === undefined ? [] : new Array<string>(8 - left.length - right.length).fill('0');
  return [...left, ...middle, ...right].map((h) => (h.includes('.') ? h : parseInt(h || '0', 16).toString(16)));
}
