/**
 * Parses the RTCP a media sender needs to react to (RFC 3550 compound packets): picture loss
 * (PLI, RFC 4585 PSFB FMT 1), full intra requests (FIR, RFC 5104 PSFB FMT 4) and generic NACKs
 * (RTPFB FMT 1, the lost sequence numbers). Everything else is skipped. Never throws.
 */
export type RtcpFeedback =
  | { type: 'pli'; mediaSsrc: number }
  | { type: 'fir'; mediaSsrc: number }
  | { type: 'nack'; mediaSsrc: number; sequences: number[] };

const RTPFB = 205;
const PSFB = 206;

/** True if the datagram looks like RTCP rather than RTP (RFC 5761 §4: PT 192–223 in byte 1). */
export function isRtcp(packet: Uint8Array): boolean {
  if (packet.length < 8 || ((packet[0] as number) >> 6) !== 2) return false;
  const pt = packet[1] as number;
  return pt >= 192 && pt <= 223;
}

export function parseRtcpFeedback(packet: Uint8Array): RtcpFeedback[] {
  const out: RtcpFeedback[] = [];
  const view = new DataView(packet.buffer, packet.byteOffset, packet.byteLength);
  let offset = 0;
  while (offset + 4 <= packet.length) {
    const first = packet[offset] as number;
    if (first >> 6 !== 2) break;
    const fmt = first & 0x1f;
    const pt = packet[offset + 1] as number;
    const length = (view.getUint16(offset + 2) + 1) * 4;
    if (offset + length > packet.length || length < 4) break;
    if ((pt === PSFB || pt === RTPFB) && length >= 12) {
      const mediaSsrc = view.getUint32(offset + 8);
      if (pt === PSFB && fmt === 1) out.push({ type: 'pli', mediaSsrc });
      else if (pt === PSFB && fmt === 4) {
        // FCI entries: SSRC (4) + seq nr (1) + reserved (3); the media SSRC field is 0 for FIR
        const ssrc = length >= 20 ? view.getUint32(offset + 12) : mediaSsrc;
        out.push({ type: 'fir', mediaSsrc: ssrc });
      } else if (pt === RTPFB && fmt === 1) {
        const sequences: number[] = [];
        for (let fci = offset + 12; fci + 4 <= offset + length; fci += 4) {
          const pid = view.getUint16(fci);
          const blp = view.getUint16(fci + 2);
          sequences.push(pid);
          for (let bit = 0; bit < 16; bit += 1) if (blp & (1 << bit)) sequences.push((pid + bit + 1) & 0xffff);
        }
        out.push({ type: 'nack', mediaSsrc, sequences });
      }
    }
    offset += length;
  }
  return out;
}
