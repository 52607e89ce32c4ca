/**
 * Test helper: an Opus producer on a mediasoup PlainTransport, fed in real time (`-re`) by ffmpeg
 * like a browser's microphone. `inputArgs` are ffmpeg input (and filter) arguments, e.g.
 * `['-t', '5', '-i', wav, '-af', 'apad=pad_dur=1.5']` or `['-f', 'lavfi', '-i', 'sine=…']`.
 * `send()` starts ffmpeg (once the consumer side is listening); await `once(ffmpeg, 'close')` for the
 * end of the stream, then close `transport`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { types as ms } from 'mediasoup';

export async function liveOpusProducer(router: ms.Router, inputArgs: string[], ssrc: number):
  Promise<{ transport: ms.PlainTransport; producer: ms.Producer; send: () => ChildProcess }> {
  const transport = await router.createPlainTransport({ listenInfo: { protocol: 'udp', ip: '127.0.0.1' }, rtcpMux: true, comedia: true });
  const producer = await transport.produce({
    kind: 'audio',
    rtpParameters: {
      codecs: [{ mimeType: 'audio/opus', payloadType: 100, clockRate: 48000, channels: 2, parameters: {}, rtcpFeedback: [] }],
      encodings: [{ ssrc }],
    },
  });
  const send = () => spawn('ffmpeg', ['-v', 'error', '-nostdin', '-re', ...inputArgs, '-ac', '2', '-ar', '48000', '-c:a', 'libopus',
    '-b:a', '32k', '-payload_type', '100', '-ssrc', String(ssrc), '-f', 'rtp', `rtp://127.0.0.1:${transport.tuple.localPort}`],
  { stdio: 'ignore' });
  return { transport, producer, send };
}
