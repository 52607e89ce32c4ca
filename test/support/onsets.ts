/**
 * Onsets of a time series (e2e lip-sync measurement): where a signal rises from its resting level
 * after staying there for a while — a speech burst after silence in a listener's audio, a mouth
 * opening after a closed stretch on an avatar's frames.
 */

export interface TimedValue {
  /** ms, any clock shared by the series compared. */
  t: number;
  v: number;
}

export interface OnsetOptions {
  /** Fraction of the way from the rest level (quantile `restQuantile`) to the active level (quantile `activeQuantile`). */
  fraction: number;
  restQuantile?: number;
  activeQuantile?: number;
  /** How long the series must stay under the threshold before a rise counts as an onset (ms). */
  minQuietMs: number;
}

function quantileOf(values: number[], q: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.floor(q * s.length)))] ?? 0;
}

/**
 * Times (ms) where `series` crosses its threshold upwards after ≥ minQuietMs below it, each
 * interpolated linearly between the last sample below and the first above (so a 40 ms frame
 * spacing does not round the onset to a frame). `series` need not be sorted. Returns [] for
 * fewer than 2 points or a flat series.
 */
export function onsets(series: readonly TimedValue[], options: OnsetOptions): number[] {
  const points = [...series].sort((a, b) => a.t - b.t);
  if (points.length < 2) return [];
  const values = points.map((p) => p.v);
  const rest = quantileOf(values, options.restQuantile ?? 0.2);
  const active = quantileOf(values, options.activeQuantile ?? 0.9);
  if (!(active > rest)) return [];
  const threshold = rest + options.fraction * (active - rest);
  const out: number[] = [];
  let quietSince: number | undefined = points[0]!.v < threshold ? points[0]!.t : undefined;
  for (let i = 1; i < points.length; i += 1) {
    const prev = points[i - 1]!;
    const p = points[i]!;
    if (p.v < threshold) {
      quietSince ??= p.t;
      continue;
    }
    if (prev.v < threshold && quietSince !== undefined && prev.t - quietSince >= options.minQuietMs) {
      const f = (threshold - prev.v) / (p.v - prev.v);
      out.push(prev.t + f * (p.t - prev.t));
    }
    quietSince = undefined;
  }
  return out;
}

/**
 * Pairs each reference onset with the first `other` onset within [ref + minLagMs, ref + maxLagMs]
 * and returns the lags (other − reference, ms), one per paired reference onset.
 */
export function pairedLags(reference: readonly number[], other: readonly number[], minLagMs: number, maxLagMs: number): number[] {
  const lags: number[] = [];
  for (const r of reference) {
    const match = other.filter((o) => o - r >= minLagMs && o - r <= maxLagMs).sort((a, b) => a - b)[0];
    if (match !== undefined) lags.push(match - r);
  }
  return lags;
}
