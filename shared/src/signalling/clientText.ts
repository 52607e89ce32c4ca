/**
 * Text that comes from a client (display names, data-channel labels, mediasoup parameter
 * strings): refused, never repaired. A string with a control character would be cut at a NUL or
 * shown altered by the C++ worker, a terminal, a log line or another participant's page, and a
 * lone surrogate turns into U+FFFD when encoded as UTF-8; so they fail validation (BAD_REQUEST on
 * the signalling socket) instead of being truncated or replaced.
 *
 * Refused: C0 controls U+0000–U+001F, DEL U+007F, C1 controls U+0080–U+009F, the line and
 * paragraph separators U+2028/U+2029, the bidirectional embedding/override/isolate controls
 * U+202A–U+202E and U+2066–U+2069 (they reorder text around them: a name that spoofs another),
 * and unpaired UTF-16 surrogates. Everything else, emoji with joiners included, is accepted.
 */
import { z } from 'zod';

const FORBIDDEN = /[\u0000-\u001F\u007F-\u009F\u2028\u2029\u202A-\u202E\u2066-\u2069]/u;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Why `text` is not acceptable client text (first offence, with its code point and index), or null. */
export function clientTextProblem(text: string): string | null {
  const lone = LONE_SURROGATE.exec(text);
  if (lone) return `contains an unpaired surrogate U+${codePoint(lone[0])} at index ${lone.index}`;
  const bad = FORBIDDEN.exec(text);
  if (bad) return `contains the control character U+${codePoint(bad[0])} at index ${bad.index}`;
  return null;
}

function codePoint(ch: string): string {
  return ch.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0');
}

/** A zod string of `min`..`max` UTF-16 units that is acceptable client text (see above). */
export function clientText(options: { min?: number; max: number }) {
  return z
    .string()
    .min(options.min ?? 0)
    .max(options.max)
    .superRefine((text, ctx) => {
      const problem = clientTextProblem(text);
      if (problem) ctx.addIssue({ code: 'custom', message: `must not contain control characters: ${problem}` });
    });
}
