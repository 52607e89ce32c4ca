import { describe, expect, it } from 'vitest';
import { readInboundRtp, readOutboundRtp } from './rtcStats';

const report = (entries: Record<string, unknown>[]) => new Map(entries.map((entry, i) => [String(i), entry]));

describe('rtcStats', () => {
  it('reads the inbound-rtp figures and ignores other entries', () => {
    const figures = readInboundRtp(
      report([
        { type: 'transport', bytesReceived: 999_999 },
        { type: 'inbound-rtp', kind: 'video', packetsReceived: 10, bytesReceived: 1000, framesDecoded: 7, frameWidth: 320, frameHeight: 240, framesPerSecond: 15 },
        { type: 'codec', mimeType: 'video/VP8' },
      ]),
    );
    expect(figures).toEqual({
      packetsReceived: 10,
      bytesReceived: 1000,
      framesDecoded: 7,
      frameWidth: 320,
      frameHeight: 240,
      framesPerSecond: 15,
      totalSamplesReceived: 0,
    });
  });

  it('treats missing and non-numeric fields as zero', () => {
    expect(readInboundRtp(report([{ type: 'inbound-rtp', totalSamplesReceived: 'lots', packetsReceived: NaN }]))).toMatchObject({
      totalSamplesReceived: 0,
      packetsReceived: 0,
    });
    expect(readOutboundRtp(report([]))).toEqual({ packetsSent: 0, bytesSent: 0, framesEncoded: 0 });
  });

  it('adds up several outbound streams (simulcast layers)', () => {
    expect(
      readOutboundRtp(
        report([
          { type: 'outbound-rtp', packetsSent: 5, bytesSent: 500, framesEncoded: 3 },
          { type: 'outbound-rtp', packetsSent: 1, bytesSent: 100, framesEncoded: 1 },
        ]),
      ),
    ).toEqual({ packetsSent: 6, bytesSent: 600, framesEncoded: 4 });
  });
});
