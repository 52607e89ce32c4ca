// Parses what the Python student tools wrote with the shared zod schemas, so the Python tests check
// their output against the real contract (not a copy of it).
// stdin: JSON [{"schema": "trainingEvent" | "studentManifest" | "sourceCheckResult", "value": …}, …]
// stdout: one JSON line {"ok": true} or {"ok": false, "errors": [{index, schema, issues}]}; exit 0 / 1.
import { readFileSync } from 'node:fs';
import type { ZodType } from 'zod';
import { sourceCheckResultSchema, studentManifestSchema, trainingEventSchema } from '@shared/student';

const schemas: Record<string, ZodType> = {
  trainingEvent: trainingEventSchema,
  studentManifest: studentManifestSchema,
  sourceCheckResult: sourceCheckResultSchema,
};
const items = JSON.parse(readFileSync(0, 'utf8')) as { schema: string; value: unknown }[];
const errors: { index: number; schema: string; issues: unknown }[] = [];
items.forEach((item, index) => {
  const schema = schemas[item.schema];
  if (!schema) {
    errors.push({ index, schema: item.schema, issues: 'unknown schema' });
    return;
  }
  const r = schema.safeParse(item.value);
  if (!r.success) errors.push({ index, schema: item.schema, issues: r.error.issues });
});
console.log(JSON.stringify(errors.length ? { ok: false, errors } : { ok: true, count: items.length }));
process.exit(errors.length ? 1 : 0);
