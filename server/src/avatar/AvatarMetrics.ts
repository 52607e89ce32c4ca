/**
 * Prometheus metrics of avatar rendering, registered on the server's registry. Per-stage
 * histograms (all sessions together; ms): motion age at render, queue, inference, encode, motion
 * played to RTP sent. Per session (labels room, peer): frames by state, drops by reason, late
 * ticks, output fps, bitrate, key frames. A session's series are removed when it closes.
 */
import { Histogram, type Counter, type Gauge, type Registry } from 'prom-client';
import { avatarDropEventSchema, avatarSessionStateSchema, type AvatarEvent, type AvatarStats } from '@shared/avatar/avatarProtocol';
import { metricFactory } from '../metrics/metricFactory';

const MS_BUCKETS = [1, 2, 5, 10, 15, 20, 30, 40, 60, 80, 120, 160, 250, 400, 1000];

type Labels = { room: string; peer: string };

export class AvatarMetrics {
  readonly sessions: Gauge;
  readonly sessionStartFailures: Counter<'reason'>;
  readonly frames: Counter<'room' | 'peer' | 'state'>;
  readonly dropped: Counter<'room' | 'peer' | 'reason'>;
  readonly lateTicks: Gauge<'room' | 'peer'>;
  readonly fps: Gauge<'room' | 'peer'>;
  readonly bitrateKbps: Gauge<'room' | 'peer'>;
  readonly keyframes: Gauge<'room' | 'peer'>;
  readonly workerRestarts: Gauge<'room' | 'peer'>;
  readonly motionAgeMs: Histogram;
  readonly queueMs: Histogram;
  readonly inferenceMs: Histogram;
  readonly encodeMs: Histogram;
  readonly playedToSentMs: Histogram;

  constructor(registry: Registry) {
    const define = metricFactory(registry);
    const labels = ['room', 'peer'] as const;
    const histogram = (name: string, help: string) => new Histogram({ name, help, buckets: MS_BUCKETS, registers: [registry] });
    this.sessions = define.gauge('avatar_render_sessions', 'Avatar sessions rendering now');
    this.sessionStartFailures = define.counter('avatar_render_start_failures_total', 'Avatar starts refused or failed, by reason', ['reason'] as const);
    this.frames = define.counter('avatar_render_frames_total', 'Avatar frames sent, by what they showed (live, hold, easing, idle, calibrating)', ['room', 'peer', 'state'] as const);
    this.dropped = define.counter('avatar_render_frames_dropped_total', 'Avatar ticks dropped, by reason (inference_busy, encoder_busy, worker_unavailable, ...)', ['room', 'peer', 'reason'] as const);
    this.lateTicks = define.gauge('avatar_render_late_ticks', 'Output ticks that ran more than half a period late (event loop stalls)', labels);
    this.fps = define.gauge('avatar_render_output_fps', 'Avatar frames sent per second (last ~2 s)', labels);
    this.bitrateKbps = define.gauge('avatar_render_bitrate_kbps', 'VP8 target bitrate of the avatar encoder', labels);
    this.keyframes = define.gauge('avatar_render_keyframes', 'Key frames sent by the avatar encoder', labels);
    this.workerRestarts = define.gauge('avatar_render_worker_restarts', 'Render worker restarts of the session\'s model', labels);
    this.motionAgeMs = histogram('avatar_render_motion_age_ms', 'Age of the motion rendered at the tick (since capture, server clock)');
    this.queueMs = histogram('avatar_render_queue_ms', 'Wait for the render worker before inference');
    this.inferenceMs = histogram('avatar_render_inference_ms', 'Student inference time per frame');
    this.encodeMs = histogram('avatar_render_encode_ms', 'VP8 encode time per frame (raw frame written to VP8 frame read)');
    this.playedToSentMs = histogram('avatar_render_played_to_sent_ms', 'Motion played out of the jitter buffer to its RTP sent');
  }

  observe(labels: Labels, event: AvatarEvent): void {
    if (event.type === 'avatar_drop') {
      this.dropped.inc({ ...labels, reason: event.reason });
      return;
    }
    this.frames.inc({ ...labels, state: event.state });
    if (event.motionAgeMs !== null) this.motionAgeMs.observe(event.motionAgeMs);
    this.queueMs.observe(event.queueMs);
    if (event.inferenceMs > 0) this.inferenceMs.observe(event.inferenceMs);
    this.encodeMs.observe(event.encodeMs);
    if (event.playedToSentMs !== null) this.playedToSentMs.observe(event.playedToSentMs);
  }

  sample(labels: Labels, stats: AvatarStats): void {
    this.lateTicks.set(labels, stats.lateTicks);
    this.fps.set(labels, stats.fps);
    this.bitrateKbps.set(labels, stats.bitrateKbps);
    this.keyframes.set(labels, stats.keyframes);
    this.workerRestarts.set(labels, stats.workerRestarts);
  }

  remove(labels: Labels): void {
    for (const gauge of [this.lateTicks, this.fps, this.bitrateKbps, this.keyframes, this.workerRestarts]) gauge.remove(labels);
    for (const state of avatarSessionStateSchema.options) this.frames.remove({ ...labels, state });
    for (const reason of avatarDropEventSchema.shape.reason.options) this.dropped.remove({ ...labels, reason });
  }
}
