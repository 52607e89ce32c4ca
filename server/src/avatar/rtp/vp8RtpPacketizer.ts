/**
 * RTP packetization of VP8 frames (RFC 7741) with a 15-bit PictureID, and the RTP fixed header
 * (RFC 3550). One frame → packets of at most `maxPacketBytes`, the marker bit on the last.
 *
 * Payload descriptor (4 bytes): X=1, S=1 on the first packet (partition index 0), PID=0;
 * I=1; M=1 + 15-bit PictureID (incremented per frame).
 */
export const RTP_HEADER_BYTES = 12;
const DESCRIPTOR_BYTES = 4;

export interface RtpStreamState {
  payloadType: number;
  ssrc: number;
  /** Next sequence number (u16, wraps). */
  sequence: number;
  /** Next PictureID (15 bits, wraps). */
  pictureId: number;
}

/** Writes an RTP fixed header (no CSRC, no extension) into `out` at 0. */
export function writeRtpHeader(out: Buffer, s: { payloadType: number; sequence: number; timestamp: number; ssrc: number; marker: boolean }): void {
  out[0] = 0x80; // V=2
  out[1] = (s.marker ? 0x80 : 0) | (s.payloadType & 0x7f);
  out.writeUInt16BE(s.sequence & 0xffff, 2);
  out.writeUInt32BE(s.timestamp >>> 0, 4);
  out.writeUInt32BE(s.ssrc >>> 0, 8);
}

/** Splits one VP8 frame into RTP packets; advances `state.sequence` and `state.pictureId`. */
export function packetizeVp8(frame: Uint8Array, timestamp: number, state: RtpStreamState, maxPacketBytes = 1200): Buffer[] {
  const room = maxPacketBytes - RTP_HEADER_BYTES - DESCRIPTOR_BYTES;
  if (room <= 0) throw new RangeError('maxPacketBytes too small for RTP + VP8 headers');
  const packets: Buffer[] = [];
  const pictureId = state.pictureId & 0x7fff;
  for (let offset = 0; offset < frame.length || packets.length === 0; offset += room) {
    const chunk = frame.subarray(offset, Math.min(frame.length, offset + room));
    const last = offset + room >= frame.length;
    const packet = Buffer.allocUnsafe(RTP_HEADER_BYTES + DESCRIPTOR_BYTES + chunk.length);
    writeRtpHeader(packet, { payloadType: state.payloadType, sequence: state.sequence, timestamp, ssrc: state.ssrc, marker: last });
    packet[12] = 0x80 | (offset === 0 ? 0x10 : 0); // X, S
    packet[13] = 0x80; // I
    packet[14] = 0x80 | (pictureId >> 8); // M + PictureID high bits
    packet[15] = pictureId & 0xff;
    packet.set(chunk, RTP_HEADER_BYTES + DESCRIPTOR_BYTES);
    packets.push(packet);
    state.sequence = (state.sequence + 1) & 0xffff;
  }
  state.pictureId = (pictureId + 1) & 0x7fff;
  return packets;
}
