import { once } from 'node:events';
import * as mediasoup from 'mediasoup';
import type { types as ms } from 'mediasoup';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { routerMediaCodecs } from '../media/mediaCodecs';
import { AudioTap } from './AudioTap';
import type { PcmChunk } from './RtpAudioReceiver';
import { liveOpusProducer } from './testing/liveOpusProducer';

let worker: ms.Worker;
let router: ms.Router;

beforeAll(async () => {
  worker = await mediasoup.createWorker({ logLevel: 'error' });
  router = await worker.createRouter({ mediaCodecs: routerMediaCodecs });
});
afterAll(() => worker.close());

/** A 300 Hz tone as a live microphone (ffmpeg in real time). */
async function opusProducer(seconds: number) {
  const { transport, producer, send } = await liveOpusProducer(router,
    ['-f', 'lavfi', '-i', `sine=frequency=300:sample_rate=48000:duration=${seconds}`], 4321);
  return { transport, producer, ffmpeg: send() };
}

describe('AudioTap on a real mediasoup router', () => {
  it('consumes an Opus producer through a DirectTransport and decodes 16 kHz PCM in real time', async () => {
    const { transport, producer, ffmpeg } = await opusProducer(1.5);
    const tap = await AudioTap.create(router, producer.id);
    const chunks: PcmChunk[] = [];
    tap.on('pcm', (c) => chunks.push(c));
    await once(ffmpeg, 'close');
    await new Promise((r) => setTimeout(r, 150));
    const samples = chunks.reduce((n, c) => n + c.samples.length, 0);
    expect(samples).toBeGreaterThan(1.3 * 16000);
    expect(samples).toBeLessThan(1.6 * 16000);
    expect(tap.stats.lostPackets).toBe(0);
    expect(tap.stats.packets).toBeGreaterThan(60);
    // arrival times advance in real time (paced by -re): 1.5 s of audio over >= 1.2 s
    expect(chunks.at(-1)!.arrivalMs - chunks[0]!.arrivalMs).toBeGreaterThan(1200);
    let peak = 0;
    for (const c of chunks) for (const v of c.samples) peak = Math.max(peak, Math.abs(v));
    expect(peak).toBeGreaterThan(0.05);
    // closing the producer closes the tap
    const closed = once(tap, 'close');
    producer.close();
    await closed;
    expect(tap.closed).toBe(true);
    tap.close();
    transport.close();
  });

  it('refuses a video producer and frees its transport', async () => {
    const transport = await router.createPlainTransport({ listenInfo: { protocol: 'udp', ip: '127.0.0.1' }, rtcpMux: true, comedia: true });
    const producer = await transport.produce({
      kind: 'video',
      rtpParameters: { codecs: [{ mimeType: 'video/VP8', payloadType: 101, clockRate: 90000, parameters: {}, rtcpFeedback: [] }],
        encodings: [{ ssrc: 99 }] },
    });
    await expect(AudioTap.create(router, producer.id)).rejects.toThrow(/not Opus audio/);
    const dump = await router.dump();
    expect(dump.transportIds).toHaveLength(1);
    transport.close();
  });
});
