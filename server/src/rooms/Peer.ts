/**
 * A participant in a room: a human behind a signalling connection, or a `server` peer that
 * publishes server-made tracks. Owns its transports; closing a transport closes the producers,
 * consumers and data producers on it, so `close()` only has to close the transports.
 */
import type { types as ms } from 'mediasoup';
import type { DataSource, MediaSource, PeerInfo, SignallingNotification } from '@shared/signalling';
import type { SyntheticTrack } from '@shared/signalling/syntheticTrack';
import type { Logger } from '../logger';
import { TypedEmitter } from '../util/TypedEmitter';
import { LimitExceededError, NotFoundError } from '../signalling/SignallingError';

export type PeerKind = PeerInfo['kind'];
export type TransportDirection = 'send' | 'recv';

export type TransportAppData = { peerId: string; direction: TransportDirection };
export type ProducerAppData = { peerId: string; source: MediaSource; synthetic?: SyntheticTrack };
export type ConsumerAppData = { peerId: string; producerPeerId: string; source: MediaSource };
export type DataProducerAppData = { peerId: string; source: DataSource };

export type PeerTransport = ms.Transport<TransportAppData>;
export type PeerProducer = ms.Producer<ProducerAppData>;
export type PeerConsumer = ms.Consumer<ConsumerAppData>;
export type PeerDataProducer = ms.DataProducer<DataProducerAppData>;

export type PeerOptions = {
  id: string;
  displayName: string;
  kind: PeerKind;
  rtpCapabilities?: ms.RtpCapabilities;
  sctpCapabilities?: ms.SctpCapabilities;
  /** Pushes a notification to this peer's client; server peers have none. */
  notify?: (notification: SignallingNotification) => void;
  logger: Logger;
};

export type PeerEvents = { close: [] };

/** What a peer may own a limited number of. */
export type PeerResource = 'transports' | 'producers' | 'consumers' | 'dataProducers';

const resourceNames: Record<PeerResource, string> = {
  transports: 'transports',
  producers: 'producers',
  consumers: 'consumers',
  dataProducers: 'data producers',
};

export class Peer extends TypedEmitter<PeerEvents> {
  readonly id: string;
  readonly displayName: string;
  readonly kind: PeerKind;
  readonly rtpCapabilities: ms.RtpCapabilities | undefined;
  readonly sctpCapabilities: ms.SctpCapabilities | undefined;
  readonly joinedAt = new Date();
  readonly log: Logger;
  readonly #notify: ((notification: SignallingNotification) => void) | undefined;
  readonly #transports = new Map<string, PeerTransport>();
  readonly #producers = new Map<string, PeerProducer>();
  readonly #consumers = new Map<string, PeerConsumer>();
  readonly #dataProducers = new Map<string, PeerDataProducer>();
  readonly #pending: Record<PeerResource, number> = { transports: 0, producers: 0, consumers: 0, dataProducers: 0 };
  #closed = false;

  constructor(options: PeerOptions) {
    super();
    this.id = options.id;
    this.displayName = options.displayName;
    this.kind = options.kind;
    this.rtpCapabilities = options.rtpCapabilities;
    this.sctpCapabilities = options.sctpCapabilities;
    this.#notify = options.notify;
    this.log = options.logger.child({ peerId: options.id });
  }

  get closed(): boolean {
    return this.#closed;
  }

  get info(): PeerInfo {
    return { id: this.id, displayName: this.displayName, kind: this.kind };
  }

  get transports(): ReadonlyMap<string, PeerTransport> {
    return this.#transports;
  }
  get producers(): ReadonlyMap<string, PeerProducer> {
    return this.#producers;
  }
  get consumers(): ReadonlyMap<string, PeerConsumer> {
    return this.#consumers;
  }
  get dataProducers(): ReadonlyMap<string, PeerDataProducer> {
    return this.#dataProducers;
  }

  notify(notification: SignallingNotification): void {
    if (this.#closed || !this.#notify) return;
    try {
      this.#notify(notification);
    } catch (error) {
      this.log.warn({ err: error, type: notification.type }, 'could not deliver notification');
    }
  }

  /**
   * Claims a slot for a resource about to be created, counting those still being created, so
   * a burst of concurrent requests cannot overshoot the limit. Call the returned release once
   * creation has ended, whatever the outcome.
   */
  claim(resource: PeerResource, max: number): () => void {
    const owned = {
      transports: this.#transports.size,
      producers: this.#producers.size,
      consumers: this.#consumers.size,
      dataProducers: this.#dataProducers.size,
    }[resource];
    if (owned + this.#pending[resource] >= max) throw new LimitExceededError(resourceNames[resource], max);
    this.#pending[resource] += 1;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#pending[resource] -= 1;
    };
  }

  /** Looks up one of THIS peer's objects: another peer's id is as unknown as a made-up one. */
  transport(id: string): PeerTransport {
    return this.#lookup(this.#transports, 'transport', id);
  }
  producer(id: string): PeerProducer {
    return this.#lookup(this.#producers, 'producer', id);
  }
  consumer(id: string): PeerConsumer {
    return this.#lookup(this.#consumers, 'consumer', id);
  }
  dataProducer(id: string): PeerDataProducer {
    return this.#lookup(this.#dataProducers, 'data producer', id);
  }

  addTransport(transport: PeerTransport): void {
    this.#track(this.#transports, transport);
  }
  addProducer(producer: PeerProducer): void {
    this.#track(this.#producers, producer);
  }
  addConsumer(consumer: PeerConsumer): void {
    this.#track(this.#consumers, consumer);
  }
  addDataProducer(dataProducer: PeerDataProducer): void {
    this.#track(this.#dataProducers, dataProducer);
  }

  /** Idempotent. Closing the transports cascades to everything created on them. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const transport of this.#transports.values()) transport.close();
    // Anything still here was not on a transport we own (should not happen); close it anyway.
    for (const map of [this.#producers, this.#consumers, this.#dataProducers] as const) {
      for (const item of map.values()) item.close();
    }
    this.#transports.clear();
    this.#producers.clear();
    this.#consumers.clear();
    this.#dataProducers.clear();
    this.log.debug('peer closed');
    this.safeEmit('close');
  }

  #lookup<T>(map: Map<string, T>, what: string, id: string): T {
    const item = map.get(id);
    if (!item) throw new NotFoundError(what, id);
    return item;
  }

  /** Keeps `item` in `map` until it closes, whatever closes it. */
  #track<T extends { id: string; closed: boolean; observer: { once(e: 'close', l: () => void): unknown } }>(
    map: Map<string, T>,
    item: T,
  ): void {
    if (this.#closed || item.closed) {
      (item as unknown as { close(): void }).close();
      return;
    }
    map.set(item.id, item);
    item.observer.once('close', () => map.delete(item.id));
  }

  protected override onListenerError(event: string, error: unknown): void {
    this.log.error({ event, err: error }, 'Peer listener threw');
  }
}
