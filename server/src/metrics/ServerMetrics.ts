/**
 * Prometheus metrics for one server instance, in its own registry (not prom-client's global
 * one) so tests can run several servers in one process. Other parts register their own
 * metrics on `registry`.
 */
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';

export class ServerMetrics {
  readonly registry = new Registry();

  readonly rooms = new Gauge({ name: 'avatar_rooms', help: 'Open rooms', registers: [this.registry] });
  readonly peers = new Gauge({
    name: 'avatar_peers',
    help: 'Peers in rooms, by kind (human or server)',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  readonly roomsCreated = new Counter({
    name: 'avatar_rooms_created_total',
    help: 'Rooms created',
    registers: [this.registry],
  });
  readonly roomsClosed = new Counter({
    name: 'avatar_rooms_closed_total',
    help: 'Rooms closed, by reason',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly signallingRequests = new Counter({
    name: 'avatar_signalling_requests_total',
    help: 'Signalling requests answered, by method and outcome (ok or error code)',
    labelNames: ['method', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly signallingDroppedNoAck = new Counter({
    name: 'avatar_signalling_dropped_no_ack_total',
    help: 'Signalling requests dropped because they carried no acknowledgement callback',
    registers: [this.registry],
  });
  readonly socketConnections = new Gauge({
    name: 'avatar_socket_connections',
    help: 'Open signalling connections',
    registers: [this.registry],
  });
  readonly dataMessages = new Counter({
    name: 'avatar_data_messages_total',
    help: 'Peer data-channel messages read by server code, by data source',
    labelNames: ['source'] as const,
    registers: [this.registry],
  });
  readonly dataBytes = new Counter({
    name: 'avatar_data_bytes_total',
    help: 'Peer data-channel payload bytes read by server code, by data source',
    labelNames: ['source'] as const,
    registers: [this.registry],
  });
  readonly workers = new Gauge({ name: 'avatar_mediasoup_workers', help: 'Live mediasoup workers', registers: [this.registry] });
  readonly workerDeaths = new Counter({
    name: 'avatar_mediasoup_worker_deaths_total',
    help: 'mediasoup workers that died unexpectedly',
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'avatar_node_' });
  }
}
