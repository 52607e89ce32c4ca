/**
 * Prometheus metrics of the motion uplink, per peer (labels `room`, `peer`), registered on the
 * server instance's registry. Counters move with the stream's events; gauges are refreshed by
 * `sample()` (the MotionService calls it on its stats tick). A stream's label sets are removed
 * when it closes, so the series do not pile up as peers come and go.
 */
import type { Counter, Gauge, Registry } from 'prom-client';
import { metricFactory } from '../metrics/metricFactory';
import type { MotionStreamStats } from './MotionStream';

type PeerLabels = { room: string; peer: string };

export class MotionMetrics {
  readonly streams: Gauge;
  readonly received: Counter<'room' | 'peer'>;
  readonly receivedBytes: Counter<'room' | 'peer'>;
  readonly dropped: Counter<'room' | 'peer' | 'reason'>;
  readonly played: Counter<'room' | 'peer'>;
  readonly lost: Gauge<'room' | 'peer'>;
  readonly jitterMs: Gauge<'room' | 'peer'>;
  readonly ageMs: Gauge<'room' | 'peer'>;
  readonly kbps: Gauge<'room' | 'peer'>;

  constructor(registry: Registry) {
    const define = metricFactory(registry);
    const labelNames = ['room', 'peer'] as const;
    this.streams = define.gauge('avatar_motion_streams', 'Open motion streams (avatar-mode peers)');
    this.received = define.counter('avatar_motion_packets_received_total', 'Messages received on motion data channels, good or bad', labelNames);
    this.receivedBytes = define.counter('avatar_motion_bytes_received_total', 'Bytes received on motion data channels', labelNames);
    this.dropped = define.counter(
      'avatar_motion_packets_dropped_total',
      'Motion packets dropped, by reason (rate_limited, truncated, bad_version, bad_value, future, late, ...)',
      ['room', 'peer', 'reason'] as const,
    );
    this.played = define.counter('avatar_motion_frames_played_total', 'Motion frames played out of the jitter buffer', labelNames);
    this.lost = define.gauge(
      'avatar_motion_frames_lost',
      'Motion frames missing from the sequence numbers (RFC 3550 expected - received)',
      labelNames,
    );
    this.jitterMs = define.gauge(
      'avatar_motion_jitter_ms',
      'RFC 3550 interarrival jitter of motion packets (capture vs arrival time), ms',
      labelNames,
    );
    this.ageMs = define.gauge(
      'avatar_motion_age_ms',
      'Age of the newest played motion frame, relative to the fastest transit seen, ms',
      labelNames,
    );
    this.kbps = define.gauge('avatar_motion_uplink_kbps', 'Motion uplink bit rate over the last ~2 s, kbit/s', labelNames);
  }

  sample(labels: PeerLabels, stats: MotionStreamStats): void {
    this.lost.set(labels, stats.lostFrames);
    this.jitterMs.set(labels, stats.jitterMs);
    if (stats.ageMs !== null) this.ageMs.set(labels, stats.ageMs);
    this.kbps.set(labels, stats.kbps);
  }

  /** Forgets a closed stream's series (its drop reasons are read from its final stats). */
  remove(labels: PeerLabels, stats: MotionStreamStats): void {
    for (const metric of [this.received, this.receivedBytes, this.played, this.lost, this.jitterMs, this.ageMs, this.kbps]) {
      metric.remove(labels);
    }
    for (const reason of Object.keys(stats.dropped)) this.dropped.remove({ ...labels, reason });
  }
}
