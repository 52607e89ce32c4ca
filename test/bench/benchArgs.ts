/**
 * Command-line options of a benchmark, parsed with node:util's parseArgs and validated by the
 * benchmark's zod schema: `--name value` (kebab-case names map to the schema's camelCase keys).
 * Throws with every problem named (unknown option, missing value, bad value).
 */
import { parseArgs } from 'node:util';
import type { z } from 'zod';

export function parseBenchArgs<S extends z.ZodObject>(schema: S, argv: string[] = process.argv.slice(2)): z.infer<S> {
  const kebab = (key: string) => key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
  const options = Object.fromEntries(Object.keys(schema.shape).map((key) => [kebab(key), { type: 'string' as const }]));
  const { values } = parseArgs({ args: argv, options, strict: true, allowPositionals: false });
  const raw = Object.fromEntries(Object.entries(values).map(([key, value]) => [key.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase()), value]));
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw new Error(`bad arguments: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return parsed.data;
}
