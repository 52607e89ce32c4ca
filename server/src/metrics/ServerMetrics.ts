/**
 * Prometheus metrics for one server instance, in its own registry (not prom-client's global
 * one) so tests can run several servers in one process. Other parts register their own
 * metrics on `registry`.
 */
import { collectDefaultMetrics, Registry } from 'prom-client';
import { metricFactory } from './metricFactory';

export class ServerMetrics {
  readonly registry = new Registry();
  readonly #define = metricFactory(this.registry);

  readonly rooms = this.#define.gauge('avatar_rooms', 'Open rooms');
  readonly peers = this.#define.gauge('avatar_peers', 'Peers in rooms, by kind (human or server)', ['kind'] as const);
  readonly roomsCreated = this.#define.counter('avatar_rooms_created_total', 'Rooms created');
  readonly roomsClosed = this.#define.counter('avatar_rooms_closed_total', 'Rooms closed, by reason', ['reason'] as const);
  readonly signallingRequests = this.#define.counter(
    'avatar_signalling_requests_total',
    'Signalling requests answered, by method and outcome (ok or error code)',
    ['method', 'outcome'] as const,
  );
  readonly signallingDroppedNoAck = this.#define.counter(
    'avatar_signalling_dropped_no_ack_total',
    'Signalling requests dropped because they carried no acknowledgement callback',
  );
  readonly socketConnections = this.#define.gauge('avatar_socket_connections', 'Open signalling connections');
  readonly dataMessages = this.#define.counter(
    'avatar_data_messages_total',
    'Peer data-channel messages read by server code, by data source',
    ['source'] as const,
  );
  readonly dataBytes = this.#define.counter(
    'avatar_data_bytes_total',
    'Peer data-channel payload bytes read by server code, by data source',
    ['source'] as const,
  );
  readonly workers = this.#define.gauge('avatar_mediasoup_workers', 'Live mediasoup workers');
  readonly workerDeaths = this.#define.counter('avatar_mediasoup_worker_deaths_total', 'mediasoup workers that died unexpectedly');

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'avatar_node_' });
  }
}
