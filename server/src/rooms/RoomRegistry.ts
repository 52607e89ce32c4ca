/**
 * All open rooms of one server. Creates a room on first use, on the least-loaded worker
 * (fewest rooms, then fewest peers), drops it when it closes, and closes every room of a worker
 * that died (clients get `roomClosed` with reason `workerDied`).
 */
import type { types as ms } from 'mediasoup';
import type { RoomClosedReason } from '@shared/signalling';
import type { Config } from '../config';
import type { Logger } from '../logger';
import type { ServerMetrics } from '../metrics/ServerMetrics';
import type { WorkerPool } from '../media/WorkerPool';
import { SignallingError } from '../signalling/SignallingError';
import { routerMediaCodecs } from '../media/mediaCodecs';
import { TypedEmitter } from '../util/TypedEmitter';
import { Room } from './Room';

export type RoomRegistryOptions = {
  pool: WorkerPool;
  config: Config;
  logger: Logger;
  metrics: ServerMetrics;
};

export type RoomRegistryEvents = { roomcreated: [Room] };

export class RoomRegistry extends TypedEmitter<RoomRegistryEvents> {
  readonly #options: RoomRegistryOptions;
  readonly #log: Logger;
  readonly #rooms = new Map<string, Room>();
  /** Rooms being created, so concurrent joins of a new room share one Router. */
  readonly #pending = new Map<string, Promise<Room>>();
  readonly #onWorkerDied = ({ worker }: { worker: ms.Worker }): void => this.#closeRoomsOf(worker, 'workerDied');
  #closed = false;
  #rtpCapabilities: Promise<ms.RtpCapabilities> | undefined;

  constructor(options: RoomRegistryOptions) {
    super();
    this.#options = options;
    this.#log = options.logger.child({ component: 'RoomRegistry' });
    options.pool.on('workerDied', this.#onWorkerDied);
  }

  get size(): number {
    return this.#rooms.size;
  }

  get rooms(): ReadonlyMap<string, Room> {
    return this.#rooms;
  }

  get(roomId: string): Room | undefined {
    return this.#rooms.get(roomId);
  }

  /**
   * The RTP capabilities every room's Router has (they follow from the one codec list, so they
   * are the same for all rooms). Worked out once, from a Router that is closed at once; asking
   * creates no room, so clients that never join cost nothing.
   */
  routerRtpCapabilities(): Promise<ms.RtpCapabilities> {
    if (this.#closed) return Promise.reject(new SignallingError('ROOM_CLOSED', 'the server is shutting down', true));
    const open = [...this.#rooms.values()].find((room) => !room.closed);
    if (open) return Promise.resolve(open.rtpCapabilities);
    this.#rtpCapabilities ??= (async () => {
      const router = await this.#leastLoadedWorker().createRouter({ mediaCodecs: routerMediaCodecs });
      const capabilities = router.rtpCapabilities;
      router.close();
      return capabilities;
    })().catch((error: unknown) => {
      this.#rtpCapabilities = undefined; // a worker died meanwhile: the next call tries again
      throw error;
    });
    return this.#rtpCapabilities;
  }

  async getOrCreate(roomId: string): Promise<Room> {
    if (this.#closed) throw new SignallingError('ROOM_CLOSED', 'the server is shutting down', true);
    const existing = this.#rooms.get(roomId);
    if (existing && !existing.closed) return existing;
    const pending = this.#pending.get(roomId);
    if (pending) return pending;
    const max = this.#options.config.limits.maxRooms;
    if (this.#rooms.size + this.#pending.size >= max) {
      throw new SignallingError('ROOM_FULL', `the server hosts its maximum of ${max} rooms`, true);
    }
    const creation = this.#create(roomId).finally(() => this.#pending.delete(roomId));
    this.#pending.set(roomId, creation);
    return creation;
  }

  /** Closes every room (idempotent); the registry accepts no new rooms afterwards. */
  close(reason: RoomClosedReason = 'serverShutdown'): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#options.pool.off('workerDied', this.#onWorkerDied);
    for (const room of [...this.#rooms.values()]) room.close(reason);
    this.#rooms.clear();
  }

  async #create(roomId: string): Promise<Room> {
    const worker = this.#leastLoadedWorker();
    const room = await Room.create({
      id: roomId,
      worker,
      config: this.#options.config,
      logger: this.#options.logger,
      metrics: this.#options.metrics,
    });
    if (this.#closed) {
      room.close('serverShutdown');
      throw new SignallingError('ROOM_CLOSED', 'the server is shutting down', true);
    }
    this.#rooms.set(roomId, room);
    room.once('close', () => {
      if (this.#rooms.get(roomId) === room) this.#rooms.delete(roomId);
    });
    this.safeEmit('roomcreated', room);
    return room;
  }

  #leastLoadedWorker(): ms.Worker {
    const workers = this.#options.pool.workers.filter((w) => !w.closed);
    if (workers.length === 0) {
      throw new SignallingError('INTERNAL', 'no media worker is available right now', true);
    }
    const load = new Map<ms.Worker, [rooms: number, peers: number]>(workers.map((w) => [w, [0, 0]]));
    for (const room of this.#rooms.values()) {
      const entry = load.get(room.worker);
      if (entry) {
        entry[0] += 1;
        entry[1] += room.peers.size;
      }
    }
    const score = (w: ms.Worker) => load.get(w) ?? [0, 0];
    return workers.reduce((best, w) => {
      const [r, p] = score(w);
      const [br, bp] = score(best);
      return r < br || (r === br && p < bp) ? w : best;
    });
  }

  #closeRoomsOf(worker: ms.Worker, reason: RoomClosedReason): void {
    const rooms = [...this.#rooms.values()].filter((room) => room.worker === worker);
    this.#log.warn({ pid: worker.pid, rooms: rooms.map((r) => r.id) }, 'closing the rooms of a dead worker');
    for (const room of rooms) room.close(reason);
  }

  protected override onListenerError(event: string, error: unknown): void {
    this.#log.error({ event, err: error }, 'RoomRegistry listener threw');
  }
}
