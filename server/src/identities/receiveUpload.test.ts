/**
 * receiveUpload against a real HTTP server and a raw TCP client: a client that goes away in the
 * middle of its file must cost nothing afterwards (no temporary file, no open descriptor, the
 * request settled).
 */
import { readdirSync } from 'node:fs';
import { mkdtemp, readlink, readdir, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RegistryError } from './RegistryError';
import { receiveUpload } from './receiveUpload';

let tmpDir: string;
let server: Server;
let outcome: Promise<unknown>;

beforeEach(async () => {
  tmpDir = await mkdtemp(join(tmpdir(), 'receive-upload-test-'));
  let settle!: (value: unknown) => void;
  outcome = new Promise((resolve) => (settle = resolve));
  server = createServer((req, res) => {
    receiveUpload(req, { tmpDir, maxBytes: 8 * 1024 * 1024 }).then(
      (upload) => settle(upload),
      (error: unknown) => settle(error),
    ).finally(() => res.end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
});

afterEach(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await rm(tmpDir, { recursive: true, force: true });
});

/** This process's descriptors open on files under `dir`. */
async function openFilesUnder(dir: string): Promise<string[]> {
  const targets = await Promise.all((await readdir('/proc/self/fd')).map((fd) => readlink(`/proc/self/fd/${fd}`).catch(() => '')));
  return targets.filter((target) => target.startsWith(dir));
}

describe('receiveUpload', () => {
  it('settles with UPLOAD_ABORTED and deletes the partial file when the client disconnects mid-file', async () => {
    const boundary = 'testboundary42';
    const head =
      `--${boundary}\r\nContent-Disposition: form-data; name="displayName"\r\n\r\nSam\r\n` +
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.jpg"\r\nContent-Type: image/jpeg\r\n\r\n`;
    const { port } = server.address() as AddressInfo;
    const socket = connect(port, '127.0.0.1');
    await new Promise<void>((resolve) => socket.once('connect', resolve));
    socket.write(
      `POST /upload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary=${boundary}\r\n` +
        `Content-Length: ${4 * 1024 * 1024}\r\n\r\n${head}`,
    );
    socket.write(Buffer.alloc(256 * 1024, 0xab));
    // The partial file exists and is being written.
    await expect.poll(() => readdirSync(tmpDir).length, { timeout: 5000 }).toBe(1);
    socket.destroy();

    const result = await Promise.race([outcome, new Promise((resolve) => setTimeout(() => resolve('still pending'), 5000))]);
    expect(result).toBeInstanceOf(RegistryError);
    expect((result as RegistryError).code).toBe('UPLOAD_ABORTED');
    expect(readdirSync(tmpDir)).toEqual([]);
    expect(await openFilesUnder(tmpDir)).toEqual([]);
  });
});
