/**
 * RTP header parsing (RFC 3550): enough to depacketise an audio stream. Handles CSRCs, header
 * extensions (RFC 8285 one- and two-byte, skipped as a block) and padding.
 */

export type RtpPacket = {
  payloadType: number;
  /** 16-bit sequence number. */
  sequenceNumber: number;
  /** 32-bit media timestamp (48 kHz clock for Opus). */
  timestamp: number;
  ssrc: number;
  marker: boolean;
  /** The codec payload (a view into the packet buffer). */
  payload: Buffer;
};

export class RtpParseError extends Error {
  override name = 'RtpParseError';
}

/** Parses one RTP packet; throws RtpParseError for anything that is not RTP version 2. */
export function parseRtpPacket(packet: Buffer): RtpPacket {
  if (packet.length < 12) throw new RtpParseError(`RTP packet too short (${packet.length} bytes)`);
  const b0 = packet[0]!;
  const version = b0 >> 6;
  if (version !== 2) throw new RtpParseError(`RTP version ${version}, expected 2`);
  const padding = (b0 & 0x20) !== 0;
  const extension = (b0 & 0x10) !== 0;
  const csrcCount = b0 & 0x0f;
  const b1 = packet[1]!;
  let offset = 12 + 4 * csrcCount;
  if (extension) {
    if (packet.length < offset + 4) throw new RtpParseError('RTP header extension truncated');
    const words = packet.readUInt16BE(offset + 2);
    offset += 4 + 4 * words;
  }
  let end = packet.length;
  if (padding) {
    const pad = packet[packet.length - 1]!;
    if (pad === 0 || pad > packet.length - offset) throw new RtpParseError(`bad RTP padding length ${pad}`);
    end -= pad;
  }
  if (offset > end) throw new RtpParseError('RTP header longer than the packet');
  return {
    payloadType: b1 & 0x7f,
    marker: (b1 & 0x80) !== 0,
    sequenceNumber: packet.readUInt16BE(2),
    timestamp: packet.readUInt32BE(4),
    ssrc: packet.readUInt32BE(8),
    payload: packet.subarray(offset, end),
  };
}

/** Signed distance a - b between 16-bit sequence numbers (wrap-around aware). */
export function seqDiff(a: number, b: number): number {
  const d = (a - b) & 0xffff;
  return d >= 0x8000 ? d - 0x10000 : d;
}

/** Signed distance a - b between 32-bit RTP timestamps (wrap-around aware). */
export function timestampDiff(a: number, b: number): number {
  const d = (a - b) >>> 0;
  return d >= 0x80000000 ? d - 0x100000000 : d;
}
