/**
 * Prometheus metrics of the motion uplink, per peer (labels `room`, `peer`), registered on the
 * server instance's registry. Counters move with the stream's events; gauges are refreshed by
 * `sample()` (the MotionService calls it on its stats tick). A stream's label sets are removed
 * when it closes, so the series do not pile up as peers come and go.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
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
    const registers = [registry];
    const labelNames = ['room', 'peer'] as const;
    this.streams = new Gauge({ name: 'avatar_motion_streams', help: 'Open motion streams (avatar-mode peers)', registers });
    this.received = new Counter({
      name: 'avatar_motion_packets_received_total',
      help: 'Messages received on motion data channels, good or bad',
      labelNames,
      registers,
    });
    this.receivedBytes = new Counter({
      name: 'avatar_motion_bytes_received_total',
      help: 'Bytes received on motion data channels',
      labelNames,
      registers,
    });
    this.dropped = new Counter({
      name: 'avatar_motion_packets_dropped_total',
      help: 'Motion packets dropped, by reason (rate_limited, truncated, bad_version, bad_value, future, late, ...)',
      labelNames: ['room', 'peer', 'reason'] as const,
      registers,
    });
    this.played = new Counter({
      name: 'avatar_motion_frames_played_total',
      help: 'Motion frames played out of the jitter buffer',
      labelNames,
      registers,
    });
    this.lost = new Gauge({
      name: 'avatar_motion_frames_lost',
      help: 'Motion frames missing from the sequence numbers (RFC 3550 expected - received)',
      labelNames,
      registers,
    });
    this.jitterMs = new Gauge({
      name: 'avatar_motion_jitter_ms',
      help: 'RFC 3550 interarrival jitter of motion packets (capture vs arrival time), ms',
      labelNames,
      registers,
    });
    this.ageMs = new Gauge({
      name: 'avatar_motion_age_ms',
      help: 'Age of the newest played motion frame, relative to the fastest transit seen, ms',
      labelNames,
      registers,
    });
    this.kbps = new Gauge({
      name: 'avatar_motion_uplink_kbps',
      help: 'Motion uplink bit rate over the last ~2 s, kbit/s',
      labelNames,
      registers,
    });
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
