import { describe, expect, it } from 'vitest';
import { clientText, clientTextProblem } from './clientText';
import { displayNameSchema, produceDataRequest } from './requests';
import { rtpParametersSchema } from './mediasoupSchemas';

describe('client text', () => {
  it('refuses control characters, separators, bidi controls and lone surrogates, naming the first one', () => {
    for (const [text, where] of [
      ['chat\u0000room-7', 'U+0000 at index 4'],
      ['tab\there', 'U+0009 at index 3'],
      ['line\nbreak', 'U+000A at index 4'],
      ['del\u007f', 'U+007F at index 3'],
      ['c1\u0085', 'U+0085 at index 2'],
      ['para\u2029', 'U+2029 at index 4'],
      ['evil\u202Egnp.exe', 'U+202E at index 4'],
      ['iso\u2066x\u2069', 'U+2066 at index 3'],
      ['half\uD83D', 'unpaired surrogate U+D83D at index 4'],
      ['\uDE00low', 'unpaired surrogate U+DE00 at index 0'],
    ] as const) {
      expect(clientTextProblem(text), JSON.stringify(text)).toContain(where);
      const parsed = clientText({ max: 64 }).safeParse(text);
      expect(parsed.success).toBe(false);
      expect(parsed.error?.issues[0]?.message).toMatch(/must not contain control characters/);
    }
  });

  it('accepts any other text exactly as sent: accents, scripts, emoji with joiners and skin tones', () => {
    for (const text of ['Zoë', 'Łukasz Żółć', '山田 太郎', 'محمد', '👩🏽‍💻 dev', 'a\u200Db', 'chat room-7', '']) {
      expect(clientTextProblem(text)).toBeNull();
      expect(clientText({ max: 64 }).parse(text)).toBe(text);
    }
  });

  it('takes display names as sent: never trimmed or cut, refused when they would have to be', () => {
    expect(displayNameSchema.parse('Zoë 👩🏽‍💻')).toBe('Zoë 👩🏽‍💻');
    expect(displayNameSchema.safeParse(' Bob').error?.issues[0]?.message).toMatch(/white space/);
    expect(displayNameSchema.safeParse('').success).toBe(false);
    expect(displayNameSchema.safeParse('x'.repeat(65)).success).toBe(false);
    expect(displayNameSchema.safeParse('Bob\u0000Admin').success).toBe(false);
  });

  it('checks data-channel labels and protocols and every mediasoup parameter string', () => {
    const data = { transportId: 't', sctpStreamParameters: { streamId: 1 }, source: 'chat' as const };
    expect(produceDataRequest.safeParse({ method: 'produceData', data: { ...data, label: 'chat\u0000room-7' } }).success).toBe(false);
    expect(produceDataRequest.safeParse({ method: 'produceData', data: { ...data, protocol: 'x\u0001' } }).success).toBe(false);
    expect(produceDataRequest.parse({ method: 'produceData', data: { ...data, label: 'chat room-7' } }).data.label).toBe('chat room-7');
    const rtp = { codecs: [{ mimeType: 'audio/opus', payloadType: 111, clockRate: 48000 }], encodings: [{ ssrc: 1 }] };
    expect(rtpParametersSchema.safeParse({ ...rtp, rtcp: { cname: 'ab\u0000cd' } }).success).toBe(false);
    expect(rtpParametersSchema.safeParse({ ...rtp, mid: '0\n' }).success).toBe(false);
    expect(rtpParametersSchema.safeParse({ ...rtp, rtcp: { cname: 'abcd' } }).success).toBe(true);
  });
});
