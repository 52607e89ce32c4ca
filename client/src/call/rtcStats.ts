/**
 * Reads the figures the UI and tests care about out of an RTCStatsReport. A consumer's or
 * producer's report holds one `inbound-rtp` / `outbound-rtp` entry for its track (plus
 * transport, codec and candidate entries, which are ignored here).
 */

export interface InboundRtpFigures {
  packetsReceived: number;
  bytesReceived: number;
  /** Video only. */
  framesDecoded: number;
  frameWidth: number;
  frameHeight: number;
  framesPerSecond: number;
  /** Audio only. */
  totalSamplesReceived: number;
}

export interface OutboundRtpFigures {
  packetsSent: number;
  bytesSent: number;
  framesEncoded: number;
}

type StatsEntry = Record<string, unknown>;

const num = (entry: StatsEntry, key: string): number => {
  const value = entry[key];
  return typeof value === 'number' && Number.isFinite(value) ? value : 0;
};

/** Iterable of stats entries (an RTCStatsReport is a map of id → entry). */
export type StatsLike = { forEach(callback: (entry: StatsEntry) => void): void };

function entriesOfType(report: StatsLike, type: string): StatsEntry[] {
  const found: StatsEntry[] = [];
  report.forEach((entry) => {
    if (entry['type'] === type) found.push(entry);
  });
  return found;
}

export function readInboundRtp(report: StatsLike): InboundRtpFigures {
  const totals: InboundRtpFigures = {
    packetsReceived: 0,
    bytesReceived: 0,
    framesDecoded: 0,
    frameWidth: 0,
    frameHeight: 0,
    framesPerSecond: 0,
    totalSamplesReceived: 0,
  };
  for (const entry of entriesOfType(report, 'inbound-rtp')) {
    totals.packetsReceived += num(entry, 'packetsReceived');
    totals.bytesReceived += num(entry, 'bytesReceived');
    totals.framesDecoded += num(entry, 'framesDecoded');
    totals.totalSamplesReceived += num(entry, 'totalSamplesReceived');
    totals.frameWidth = Math.max(totals.frameWidth, num(entry, 'frameWidth'));
    totals.frameHeight = Math.max(totals.frameHeight, num(entry, 'frameHeight'));
    totals.framesPerSecond = Math.max(totals.framesPerSecond, num(entry, 'framesPerSecond'));
  }
  return totals;
}

export function readOutboundRtp(report: StatsLike): OutboundRtpFigures {
  const totals: OutboundRtpFigures = { packetsSent: 0, bytesSent: 0, framesEncoded: 0 };
  for (const entry of entriesOfType(report, 'outbound-rtp')) {
    totals.packetsSent += num(entry, 'packetsSent');
    totals.bytesSent += num(entry, 'bytesSent');
    totals.framesEncoded += num(entry, 'framesEncoded');
  }
  return totals;
}
