import { afterEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { KeyframeEncoder } from './KeyframeEncoder';

const logger = pino({ level: 'silent' });
const settings = { ffmpegPath: 'ffmpeg', size: 64, fps: 25, bitrateKbps: 300, keyframeIntervalFrames: 250, cpuUsed: 8 };
let encoder: KeyframeEncoder | undefined;
afterEach(() => encoder?.close());

function frame(i: number): Uint8Array {
  return new Uint8Array(64 * 64 * 3).map((_, j) => (j * 7 + i * 13) & 0xff);
}

describe('KeyframeEncoder', () => {
  it('starts with a key frame, then inter frames, and answers a key frame request with the very next frame', async () => {
    encoder = new KeyframeEncoder(settings, logger);
    const first = await encoder.encode(frame(0));
    expect(first.keyframe).toBe(true);
    const inter = [];
    for (let i = 1; i < 6; i += 1) inter.push(await encoder.encode(frame(i)));
    expect(inter.every((f) => !f.keyframe)).toBe(true);
    const askedMs = performance.now();
    encoder.requestKeyframe('pli');
    const key = await encoder.encode(frame(6));
    expect(key.keyframe).toBe(true);
    expect(performance.now() - askedMs).toBeLessThan(200);
    expect(encoder.switches).toBe(1);
    expect((await encoder.encode(frame(7))).keyframe).toBe(false);
  });

  it('answers a key frame request before the first frame with that first frame, starting no third ffmpeg', async () => {
    encoder = new KeyframeEncoder(settings, logger);
    encoder.requestKeyframe('start');
    expect((await encoder.encode(frame(0))).keyframe).toBe(true);
    expect(encoder.switches).toBe(0);
    expect(encoder.spawned).toBe(2);
  });

  it('changes bitrate through the standby and closes every ffmpeg it started', async () => {
    encoder = new KeyframeEncoder(settings, logger, { minBitrateSwitchMs: 0 });
    await encoder.encode(frame(0));
    encoder.setBitrate(600);
    const next = await encoder.encode(frame(1));
    expect(next.keyframe).toBe(true);
    expect(encoder.bitrateKbps).toBe(600);
    const pids = encoder.pids;
    encoder.close();
    await new Promise((r) => setTimeout(r, 300));
    for (const pid of pids) expect(() => process.kill(pid, 0)).toThrow();
  });

  it('replaces a standby ffmpeg that ended while it waited, so the next key frame request is still answered at once', async () => {
    encoder = new KeyframeEncoder(settings, logger);
    await encoder.encode(frame(0));
    const standbyPid = encoder.pids[1]!;
    process.kill(standbyPid, 'SIGKILL');
    await expect.poll(() => encoder!.pids.includes(standbyPid) && isRunning(standbyPid), { timeout: 3000 }).toBe(false);
    expect((await encoder.encode(frame(1))).keyframe).toBe(false);
    encoder.requestKeyframe('pli');
    expect((await encoder.encode(frame(2))).keyframe).toBe(true);
  });
});

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
