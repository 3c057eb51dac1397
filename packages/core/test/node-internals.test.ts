// The Node internals the library touches (src/node-internals.ts), checked on the Node running the
// suite (CI runs it on 20, 22 and 24): if a Node release changes them, this fails loudly.
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, readSync, rmSync } from 'node:fs';
import { createServer, connect, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nativeHandle, sendHandle, setBlocking, socketFd, socketOverHandle, takeHandle, unwrittenBytes } from '../src/node-internals';
import { writeSync } from 'node:fs';

const CHILD = join(__dirname, 'fixtures', 'node-internals-child.cjs');

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

  it('setBlocking: a socket whose fd is made blocking takes a write bigger than its buffer whole; off again, EAGAIN', async () => {
    const { a, b, done } = await pair();
    expect(setBlocking({}, true)).toBe(false); // no handle
    const big = Buffer.alloc(1 << 20);
    const reader = new Promise<number>((resolve) => {
      let n = 0;
      b.on('data', (d: Buffer) => (n += d.length) === big.length && resolve(n));
    });
    b.resume();
    // A blocking write of 1 MiB (five times the socket's buffer) waits for the reader: it runs in
    // a worker, while this thread's event loop reads.
    const { Worker } = await import('node:worker_threads');
    expect(setBlocking(a, true)).toBe(true);
    const fd = socketFd(a);
    const w = new Worker(`require('node:fs').writeSync(${fd}, Buffer.alloc(${big.length}))`, { eval: true });
    await new Promise((r) => w.once('exit', r));
    expect(await reader).toBe(big.length); // written whole: no EAGAIN on a blocking fd
    expect(setBlocking(a, false)).toBe(true);
    expect(() => {
      for (;;) writeSync(fd, big); // fills the buffer, then meets EAGAIN
    }).toThrow(/EAGAIN/);
    done();
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

  it('nativeHandle: the socket keeps it (same descriptor); none once closed', async () => {
    const { a, b, done } = await pair();
    const handle = nativeHandle(a)!;
    expect(typeof handle.readStop).toBe('function');
    expect(typeof handle.close).toBe('function');
    expect(handle.fd).toBe(socketFd(a));
    expect(nativeHandle(a)).toBe(handle);
    a.write('still mine');
    expect(String(await once(b))).toBe('still mine');
    done();
    expect(nativeHandle(a)).toBe(null);
  });

  it('takeHandle: stops a reading socket and leaves it without a handle; its bytes wait in the kernel', async () => {
    const { a, b, done } = await pair();
    const got: string[] = [];
    b.on('data', (d: Buffer) => got.push(String(d)));
    b.resume(); // flowing, as a socket in use is
    a.write('first');
    await until(() => got.length === 1);
    expect(nativeHandle(b)!.reading).toBe(true);
    const handle = takeHandle(b)!;
    expect(handle.reading).toBe(false);
    expect(socketFd(b)).toBe(-1);
    a.write('second');
    await settle();
    expect(got).toEqual(['first']); // the old socket read nothing more
    b.destroy(); // the old wrapper only
    const c = socketOverHandle(handle);
    expect(String(await once(c))).toBe('second');
    c.write('back');
    expect(String(await once(a))).toBe('back');
    expect(takeHandle(c.destroy())).toBe(null); // destroyed: nothing to take
    expect(takeHandle(new Socket())).toBe(null); // never connected
    done();
  });

  it('socketOverHandle: manualStart reads nothing until resumed; onread reads into our buffer; half-open', async () => {
    const { a, b, done } = await pair();
    const held = socketOverHandle(takeHandle(b)!, { manualStart: true });
    a.write('waits');
    await settle();
    expect(held.bytesRead).toBe(0);
    expect(String(await once(held))).toBe('waits');
    const buffer = Buffer.alloc(64);
    const reads: string[] = [];
    const own = socketOverHandle(takeHandle(held)!, {
      onread: {
        buffer,
        callback: (n, buf) => {
          expect(buf).toBe(buffer);
          reads.push(buffer.toString('latin1', 0, n));
          return true;
        },
      },
    });
    held.destroy();
    a.write('into ours');
    await until(() => reads.join('') === 'into ours');
    a.end(); // the peer is done writing; ours may still write (allowHalfOpen)
    await new Promise((r) => own.once('end', r));
    own.end('after end');
    expect(String(await once(a))).toBe('after end');
    done();
  });

  it('socketOverFd: a socket in a stdio slot, read only once resumed (in a child)', async () => {
    const { a, b, done } = await pair();
    a.write('ping');
    const child = spawn(process.execPath, [CHILD, 'fd'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc', b] });
    const said = await new Promise<any>((r) => child.once('message', r));
    expect(said.readBeforeStart).toBe(0);
    expect(String(await once(a))).toBe('pong:ping');
    done();
    expect(await exited(child)).toBe(0);
  });

  it('sendHandle: a bare handle crosses the IPC channel, arrives unread, and stays open here', async () => {
    const { a, b, done } = await pair();
    a.write('ping');
    const child = spawn(process.execPath, [CHILD, 'handle'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'advanced' });
    const handle = takeHandle(b)!;
    const fd = handle.fd;
    const err = await new Promise((r) => sendHandle(child, { multiproc: 'test' }, handle, r));
    expect(err).toBe(null);
    expect(handle.fd).toBe(fd); // Node closes a sent socket, not a sent handle
    handle.close();
    const said = await new Promise<any>((r) => child.once('message', r));
    expect(said).toEqual({ message: { multiproc: 'test' }, bare: true, readBeforeStart: 0 });
    expect(String(await once(a))).toBe('pong:ping');
    done();
    expect(await exited(child)).toBe(0);
  });
});

/** The next chunk `socket` reads (resuming it). */
function once(socket: Socket): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    socket.once('data', (d: Buffer) => {
      socket.pause();
      resolve(d);
    });
    socket.once('error', reject);
    socket.resume();
  });
}

/** Long enough for bytes written to arrive and for a socket that reads to read them. */
async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) {
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setTimeout(r, 5));
}

function exited(child: ReturnType<typeof spawn>): Promise<number | null> {
  return new Promise((r) => (child.exitCode !== null ? r(child.exitCode) : child.once('exit', r)));
}
