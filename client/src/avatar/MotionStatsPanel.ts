/**
 * The in-page motion stats: what this page sends (tracked fps, uplink kbps) next to what the
 * server says it receives (its `motionStats` notification: played, lost, dropped by reason,
 * jitter, age).
 */
import type { MotionStatsPayload } from '@shared/signalling/motionStats';
import { h } from '../ui/dom';

export interface LocalUplinkFigures {
  trackedFps: number;
  kbps: number;
  sentPackets: number;
  faceFound: boolean;
  /** Tracked frames the codec could not carry (not sent), and the field of the last one. */
  refusedFrames: number;
  lastRefusal: string | undefined;
  /** Frames sent with the expression at the codec's limit, and the largest error that caused (% of the face radius). */
  shapeSaturatedFrames?: number;
  shapeSaturationMaxPct?: number;
}

/** What a refused field means to the person in front of the camera. */
const REFUSAL_HINTS: Record<string, string> = {
  scale: 'face too close or too far',
  'translation.x': 'face off the frame',
  'translation.y': 'face off the frame',
  'translation.z': 'face depth out of range',
  shape: 'expression beyond the motion codec',
};

export class MotionStatsPanel {
  readonly element: HTMLElement;
  readonly #local: HTMLElement;
  readonly #server: HTMLElement;

  constructor() {
    this.#local = h('div', { class: 'motion-stats-local', 'data-testid': 'motion-local' });
    this.#server = h('div', { class: 'motion-stats-server', 'data-testid': 'motion-server' }, 'server: waiting…');
    this.element = h('aside', { class: 'motion-stats', id: 'motion-stats', 'aria-label': 'Motion uplink' }, this.#local, this.#server);
  }

  showLocal(figures: LocalUplinkFigures): void {
    this.#local.textContent = localUplinkText(figures);
  }

  showServer(stats: MotionStatsPayload): void {
    const dropped = Object.entries(stats.dropped)
      .filter(([, n]) => n > 0)
      .map(([reason, n]) => `${reason} ${n}`)
      .join(', ');
    this.#server.textContent =
      `server: ${stats.kbps.toFixed(1)} kbps · ${stats.playedFrames} played · ${stats.lostFrames} lost · ` +
      `jitter ${stats.jitterMs.toFixed(1)} ms · age ${stats.ageMs === null ? '–' : `${stats.ageMs.toFixed(0)} ms`}` +
      (dropped ? ` · dropped: ${dropped}` : '');
  }

  /** Shows a problem in place of the figures (the panel is visible while it shows). */
  showError(message: string): void {
    this.element.hidden = false;
    this.#local.textContent = message;
    this.#server.textContent = '';
  }

  /** Back to the empty panel (no figures, no error) of a run that has not started. */
  reset(): void {
    this.#local.textContent = '';
    this.#server.textContent = 'server: waiting…';
  }

  remove(): void {
    this.element.remove();
  }
}

/** The panel's line for this page's own uplink. */
export function localUplinkText(figures: LocalUplinkFigures): string {
  const refused =
    figures.refusedFrames > 0
      ? ` · ${figures.refusedFrames} not coded (${REFUSAL_HINTS[figures.lastRefusal ?? ''] ?? figures.lastRefusal ?? 'unknown'})`
      : '';
  const saturated =
    (figures.shapeSaturatedFrames ?? 0) > 0
      ? ` · ${figures.shapeSaturatedFrames} at the expression limit (≤ ${(figures.shapeSaturationMaxPct ?? 0).toFixed(1)}% of face size)`
      : '';
  return (
    `uplink ${figures.kbps.toFixed(1)} kbps · ${figures.trackedFps.toFixed(0)} fps tracked · ` +
    `${figures.sentPackets} sent${figures.faceFound ? '' : ' · no face'}${refused}${saturated}`
  );
}
