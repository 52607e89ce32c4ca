import { describe, expect, it } from 'vitest';
import { isRtcp, parseRtcpFeedback } from './rtcpFeedback';
import { packetizeVp8 } from './vp8RtpPacketizer';
import { IvfReader, isVp8Keyframe } from './IvfReader';

describe('packetizeVp8 (RFC 7741)', () => {
  it('splits a frame into MTU-sized packets with one PictureID, S on the first and the marker on the last', () => {
    const frame = new Uint8Array(3000).map((_, i) => i & 0xff);
    const state = { payloadType: 101, ssrc: 0x11223344, sequence: 0xfffe, pictureId: 0x7fff };
    const packets = packetizeVp8(frame, 90_000, state, 1200);
    expect(packets.length).toBe(3);
    expect(packets.map((p) => p.readUInt16BE(2))).toEqual([0xfffe, 0xffff, 0]);
    expect(packets.map((p) => (p[1] as number) >> 7)).toEqual([0, 0, 1]);
    expect(packets.map((p) => (p[12] as number) & 0x10)).toEqual([0x10, 0, 0]);
    for (const p of packets) {
      expect(p.length).toBeLessThanOrEqual(1200);
      expect(p[1]! & 0x7f).toBe(101);
      expect(p.readUInt32BE(4)).toBe(90_000);
      expect(p.readUInt32BE(8)).toBe(0x11223344);
      expect(((p[14]! & 0x7f) << 8) | p[15]!).toBe(0x7fff);
    }
    const payload = Buffer.concat(packets.map((p) => p.subarray(16)));
    expect(Buffer.compare(payload, Buffer.from(frame))).toBe(0);
    expect(state.pictureId).toBe(0);
    expect(state.sequence).toBe(1);
  });
});

describe('parseRtcpFeedback', () => {
  it('finds PLI, FIR and NACK in a compound packet and ignores the rest', () => {
    const rr = Buffer.from([0x80, 201, 0, 1, 0, 0, 0, 1]);
    const pli = Buffer.from([0x81, 206, 0, 2, 0, 0, 0, 1, 0x11, 0x22, 0x33, 0x44]);
    const fir = Buffer.from([0x84, 206, 0, 4, 0, 0, 0, 1, 0, 0, 0, 0, 0x11, 0x22, 0x33, 0x44, 7, 0, 0, 0]);
    const nack = Buffer.from([0x81, 205, 0, 3, 0, 0, 0, 1, 0x11, 0x22, 0x33, 0x44, 0x00, 0x10, 0x00, 0x05]);
    const compound = Buffer.concat([rr, pli, fir, nack]);
    expect(isRtcp(compound)).toBe(true);
    expect(parseRtcpFeedback(compound)).toEqual([
      { type: 'pli', mediaSsrc: 0x11223344 },
      { type: 'fir', mediaSsrc: 0x11223344 },
      { type: 'nack', mediaSsrc: 0x11223344, sequences: [16, 17, 19] },
    ]);
  });

  it('never throws on garbage', () => {
    for (let i = 0; i < 500; i += 1) {
      const junk = Buffer.from(Array.from({ length: (i % 40) + 1 }, (_, j) => (i * 31 + j * 17) & 0xff));
      expect(() => parseRtcpFeedback(junk)).not.toThrow();
    }
  });
});

describe('IvfReader', () => {
  it('reassembles frames split across chunks', () => {
    const header = Buffer.alloc(32);
    header.write('DKIF', 0, 'latin1');
    header.writeUInt16LE(32, 6);
    header.write('VP80', 8, 'latin1');
    header.writeUInt16LE(256, 12);
    header.writeUInt16LE(256, 14);
    const frame = (size: number, key: boolean) => {
      const h = Buffer.alloc(12);
      h.writeUInt32LE(size, 0);
      const data = Buffer.alloc(size, 0xab);
      data[0] = key ? 0x10 : 0x11;
      return Buffer.concat([h, data]);
    };
    const stream = Buffer.concat([header, frame(100, true), frame(7, false)]);
    const reader = new IvfReader();
    const frames = [stream.subarray(0, 20), stream.subarray(20, 50), stream.subarray(50)].flatMap((c) => reader.push(c));
    expect(frames.map((f) => f.data.length)).toEqual([100, 7]);
    expect(frames.map((f) => isVp8Keyframe(f.data))).toEqual([true, false]);
    expect(reader.fourcc).toBe('VP80');
  });
});
