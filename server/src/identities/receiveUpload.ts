/**
 * Streams one multipart/form-data upload (busboy) to a temporary file, hashing it on the way:
 * text fields are collected (64 KiB each at most), exactly one file field named `file` is
 * accepted, and a body over `maxBytes` is cut short — the caller answers 413 and drops the
 * connection, so a 2 GB upload costs the server `maxBytes`, not 2 GB. On any refusal the
 * temporary file is already deleted.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Transform, type Readable } from 'node:stream';
import busboy from 'busboy';
import { RegistryError } from './RegistryError';

export type ReceivedUpload = {
  fields: Record<string, string>;
  file: { path: string; bytes: number; sha256: string; filename: string };
};

const MAX_FIELD_BYTES = 64 * 1024;

export async function receiveUpload(req: IncomingMessage, o: { tmpDir: string; maxBytes: number }): Promise<ReceivedUpload> {
  const type = req.headers['content-type'] ?? '';
  if (!type.toLowerCase().startsWith('multipart/form-data')) {
    throw new RegistryError(415, 'BAD_REQUEST', 'Send the upload as multipart/form-data with fields file, displayName and consent.');
  }
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > o.maxBytes + MAX_FIELD_BYTES * 4) {
    throw new RegistryError(413, 'PAYLOAD_TOO_LARGE', tooLarge(o.maxBytes));
  }
  let bb: busboy.Busboy;
  try {
    bb = busboy({ headers: req.headers, limits: { fileSize: o.maxBytes, files: 1, fields: 8, fieldSize: MAX_FIELD_BYTES, parts: 10 } });
  } catch (error) {
    throw new RegistryError(400, 'BAD_REQUEST', `The multipart body is malformed: ${(error as Error).message}`);
  }
  const path = join(o.tmpDir, `upload-${randomBytes(8).toString('hex')}`);
  const fields: Record<string, string> = {};
  let file: ReceivedUpload['file'] | undefined;
  let writing: Promise<void> | undefined;
  /** The file part being written (destroyed on a refusal, so the write ends and its descriptor closes). */
  let part: Readable | undefined;
  let failure: RegistryError | undefined;
  const fail = (error: RegistryError) => {
    failure ??= error;
  };

  const done = new Promise<void>((resolve, reject) => {
    bb.on('field', (name, value, info) => {
      if (info.valueTruncated) fail(new RegistryError(413, 'FIELD_TOO_LARGE', `The field ${name} is over ${MAX_FIELD_BYTES} bytes.`));
      else fields[name] = value;
    });
    bb.on('file', (name, stream, info) => {
      if (name !== 'file' || writing) {
        fail(new RegistryError(400, 'BAD_REQUEST', name !== 'file' ? `Unexpected file field "${name}"; send the upload as "file".` : 'Send exactly one file.'));
        stream.resume();
        return;
      }
      part = stream;
      const hash = createHash('sha256');
      let bytes = 0;
      const tap = new Transform({
        transform(chunk: Buffer, _enc, cb) {
          bytes += chunk.length;
          hash.update(chunk);
          cb(null, chunk);
        },
      });
      stream.once('limit', () => {
        fail(new RegistryError(413, 'PAYLOAD_TOO_LARGE', tooLarge(o.maxBytes)));
        // Stop reading now (the rest of the part would never come): the handler answers 413 and
        // closes the connection.
        stream.destroy();
        reject(failure);
      });
      writing = pipeline(stream, tap, createWriteStream(path, { flags: 'wx' })).then(() => {
        file = { path, bytes, sha256: hash.digest('hex'), filename: info.filename ?? '' };
      });
      writing.catch(() => undefined);
    });
    bb.on('filesLimit', () => fail(new RegistryError(400, 'BAD_REQUEST', 'Send exactly one file.')));
    bb.on('partsLimit', () => fail(new RegistryError(400, 'BAD_REQUEST', 'Too many parts in the upload.')));
    bb.on('fieldsLimit', () => fail(new RegistryError(400, 'BAD_REQUEST', 'Too many fields in the upload.')));
    bb.on('error', (error) => reject(new RegistryError(400, 'BAD_REQUEST', `The multipart body is malformed: ${(error as Error).message}`)));
    bb.on('close', () => resolve());
    const aborted = () => reject(new RegistryError(400, 'UPLOAD_ABORTED', 'The upload was interrupted.'));
    req.on('aborted', aborted);
    // 'aborted' is deprecated; a request that closes incomplete is the same thing.
    req.on('close', () => {
      if (!req.complete) aborted();
    });
    req.on('error', (error) => reject(new RegistryError(400, 'UPLOAD_ABORTED', `The upload failed: ${error.message}`)));
  });
  req.pipe(bb);
  try {
    await done;
    await writing;
    if (failure) throw failure;
    if (!file) throw new RegistryError(400, 'MISSING_FILE', 'The upload has no file: send the portrait or clip in the field "file".');
    if (file.bytes === 0) throw new RegistryError(400, 'EMPTY_FILE', 'The uploaded file is empty.');
    return { fields, file };
  } catch (error) {
    req.unpipe(bb);
    // A part cut off mid-file never ends by itself (busboy waits for the rest of a body that will
    // not come): end its write (and close the file) now.
    part?.destroy();
    bb.destroy();
    await writing?.catch(() => undefined);
    await rm(path, { force: true });
    throw error instanceof RegistryError ? error : new RegistryError(400, 'BAD_REQUEST', String(error));
  }
}

function tooLarge(maxBytes: number): string {
  return `The upload is over the limit of ${(maxBytes / 1024 / 1024).toFixed(0)} MiB.`;
}
