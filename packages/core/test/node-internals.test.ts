// The Node internals the library reads (src/node-internals.ts), checked on the Node running the
// suite (CI runs it on 20, 22 and 24): if a Node release changes them, this fails loudly.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readSync, rmSync } from 'node:fs';
import { createServer, connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { socketFd, unwrittenBytes } from '../src/node-internals';

/** A connected pair of Unix sockets, both ends in this process. */
async function pair(): Promise<{ a: Socket; b: Socket; done: () => void }> {
  const dir = mkdtempSync(join(tmpdir(), 'multiproc-test-'));
  const server = createServer({ pauseOnConnect: true });
  await new Promise<void>((r) => server.listen(join(dir, 's'), r));
  const accepted = new Promise<Socket>((r) => server.once('connection', r));
  const a = connect(join(dir, 's'));
  await new Promise((r) => a.once('connect', r));
  const b = await accepted;
  return {
    a,
    b,
    done: () => {
      a.destroy();
      b.destroy();
      server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

describe(`Node ${process.version} internals`, () => {
  it('socketFd: a connected socket has its descriptor at _handle.fd; none without a handle', async () => {
    const { a, b, done } = await pair();
    expect(socketFd(a)).toBeGreaterThan(2);
    expect(socketFd(b)).toBeGreaterThan(2);
    expect(socketFd(null)).toBe(-1);
    done();
    expect(socketFd(a)).toBe(-1);
  });

  it('unwrittenBytes: what libuv still holds of a write, exact as the kernel takes more', async () => {
    const { a, b, done } = await pair();
    const size = 3_000_000; // far more than the socket buffer
    const written = new Promise((r) => a.write(Buffer.alloc(size, 1), r));
    let read = 0;
    const buf = Buffer.alloc(1 << 16);
    const drain = () => {
      for (;;) {
        try {
          const n = readSync(socketFd(b), buf);
          if (n === 0) return;
          read += n;
        } catch {
          return; // EAGAIN: the kernel holds no more now
        }
      }
    };
    drain();
    expect(unwrittenBytes(a)).toBe(size - read); // libuv wrote what the kernel took, no more
    for (let i = 0; i < 3; i++) {
      await new Promise((r) => setImmediate(r)); // libuv writes on as the reader made room
      await new Promise((r) => setTimeout(r, 5));
      drain();
      expect(unwrittenBytes(a) + read).toBe(size);
    }
    while (read < size) {
      await new Promise((r) => setImmediate(r));
      drain();
    }
    await written;
    expect(unwrittenBytes(a)).toBe(0);
    done();
  });
});
