/**
 * Incremental IVF demuxer (the container ffmpeg's `-f ivf` writes): a 32-byte file header
 * ("DKIF", version, header size, fourcc, width, height, rate, scale, frame count), then frames
 * of a 12-byte header (u32le size, u64le pts) and `size` bytes of codec data. Feed it chunks of
 * the byte stream in order; it returns every complete frame.
 */
export interface IvfFrame {
  data: Uint8Array;
  pts: bigint;
}

export class IvfFormatError extends Error {
  override readonly name = 'IvfFormatError';
}

const FILE_HEADER_BYTES = 32;
const FRAME_HEADER_BYTES = 12;
/** Sanity bound on one frame (a 4K keyframe at high rate is far below this). */
const MAX_FRAME_BYTES = 16 * 1024 * 1024;

export class IvfReader {
  #buffer: Buffer = Buffer.alloc(0);
  #headerRead = false;
  fourcc = '';
  width = 0;
  height = 0;

  /** Appends a chunk; returns the frames completed by it. Throws IvfFormatError on bad data. */
  push(chunk: Uint8Array): IvfFrame[] {
    this.#buffer = this.#buffer.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.#buffer, chunk]);
    const frames: IvfFrame[] = [];
    let offset = 0;
    if (!this.#headerRead) {
      if (this.#buffer.length < FILE_HEADER_BYTES) return frames;
      if (this.#buffer.toString('latin1', 0, 4) !== 'DKIF') throw new IvfFormatError('not an IVF stream (no DKIF signature)');
      const headerBytes = this.#buffer.readUInt16LE(6);
      if (headerBytes < FILE_HEADER_BYTES) throw new IvfFormatError(`bad IVF header size ${headerBytes}`);
      if (this.#buffer.length < headerBytes) return frames;
      this.fourcc = this.#buffer.toString('latin1', 8, 12);
      this.width = this.#buffer.readUInt16LE(12);
      this.height = this.#buffer.readUInt16LE(14);
      this.#headerRead = true;
      offset = headerBytes;
    }
    while (this.#buffer.length - offset >= FRAME_HEADER_BYTES) {
      const size = this.#buffer.readUInt32LE(offset);
      if (size > MAX_FRAME_BYTES) throw new IvfFormatError(`IVF frame of ${size} bytes`);
      if (this.#buffer.length - offset - FRAME_HEADER_BYTES < size) break;
      const pts = this.#buffer.readBigUInt64LE(offset + 4);
      const start = offset + FRAME_HEADER_BYTES;
      frames.push({ data: new Uint8Array(this.#buffer.subarray(start, start + size)), pts });
      offset = start + size;
    }
    this.#buffer = this.#buffer.subarray(offset);
    return frames;
  }
}

/** VP8 (RFC 6386 §9.1): bit 0 of the first byte is 0 for a key frame. */
export function isVp8Keyframe(frame: Uint8Array): boolean {
  return frame.length > 0 && ((frame[0] as number) & 0x01) === 0;
}
