import { describe, expect, it } from 'vitest';
import { UplinkMeter } from './UplinkMeter';

describe('UplinkMeter', () => {
  it('reports kbit/s over its window', () => {
    const meter = new UplinkMeter(2000);
    // 30 packets/s of 50 bytes for 3 s = 12 kbit/s.
    for (let i = 0; i < 90; i += 1) meter.add(50, i * (1000 / 30));
    expect(meter.kbps(3000)).toBeCloseTo(12, 0);
    expect(meter.totalBytes).toBe(4500);
    expect(meter.totalPackets).toBe(90);
  });

  it('falls to zero when sending stops', () => {
    const meter = new UplinkMeter(2000);
    meter.add(1000, 0);
    expect(meter.kbps(10)).toBe(4);
    expect(meter.kbps(2500)).toBe(0);
  });
});
