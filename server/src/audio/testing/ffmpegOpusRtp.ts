/**
 * Test helper: real Opus RTP packets from ffmpeg (libopus, 20 ms frames) sent to a UDP socket
 * this helper listens on. `source` is an ffmpeg input (a file, or `-f lavfi` expression).
 */
import { spawn } from 'node:child_process';
import dgram from 'node:dgram';

export async function ffmpegOpusRtp(inputArgs: string[], options: { bitrateKbps?: number; ssrc?: number;
  payloadType?: number } = {}): Promise<Buffer[]> {
  const socket = dgram.createSocket('udp4');
  const packets: Buffer[] = [];
  socket.on('message', (msg) => packets.push(Buffer.from(msg)));
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  socket.setRecvBufferSize(8 << 20);
  const port = socket.address().port;
  const args = ['-v', 'error', '-nostdin', ...inputArgs, '-ac', '1', '-ar', '48000', '-c:a', 'libopus', '-b:a',
    `${options.bitrateKbps ?? 32}k`, '-frame_duration', '20', '-application', 'voip', '-payload_type',
    String(options.payloadType ?? 100), '-ssrc', String(options.ssrc ?? 1234), '-f', 'rtp', `rtp://127.0.0.1:${port}`];
  const proc = spawn('ffmpeg', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => proc.on('close', resolve));
  await new Promise((r) => setTimeout(r, 100));
  socket.close();
  if (code !== 0) throw new Error(`ffmpeg failed (${code}): ${stderr}`);
  // RTP only (ffmpeg also sends RTCP sender reports to port+1, not here); in sequence order
  return packets.filter((p) => p.length > 12 && (p[1]! & 0x7f) === (options.payloadType ?? 100))
    .sort((a, b) => a.readUInt16BE(2) - b.readUInt16BE(2));
}
