import { constants, fstatSync, openSync, readlinkSync, writeSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { setBlocking } from '../node-internals';

/**
 * A child's stdout and stderr on a pipe or a socket lose nothing at `process.exit()`: as in
 * Python, whose writes block, output waits for a slow reader instead of being dropped. On POSIX
 * Node writes to a pipe at once while it has room and queues the rest in libuv for the event
 * loop, which never runs again after `process.exit()`: a child whose reader was slower lost its
 * last output. Here the rest waits in this process instead, and is written with a blocking write
 * at the end of the tick, whenever 64 KiB wait, and at exit.
 *
 * While the pipe has room this writes as Node does, one write(2) per call; once it is full, as
 * Node's queue does, it gathers the writes of the rest of the tick into few large ones. Files and
 * TTYs Node already writes synchronously, and Windows pipes: those stay as they are. The streams
 * stay Node's own objects (console, `write(chunk, cb)`, 'drain', `fd`, a wrapped `write` work as
 * before): only their `_write` and `_writev` change, on first use, so a child that prints
 * nothing pays nothing.
 *
 * Runs first thing in the bootstrap, for 'spawn' children and 'forkserver' spares alike (a
 * spare's fds 1 and 2 are already the ones it keeps), so its 'exit' listener comes before the
 * bootstrap's, which tells the parent the exit code: the output is in the pipe before that.
 */
export function writeStdioSynchronously(): void {
  if (process.platform === 'win32') {
    made.add('stdout').add('stderr');
    return;
  }
  onFirstUse('stdout', 1);
  onFirstUse('stderr', 2);
  process.on('exit', () => {
    for (const out of outputs) out.exiting();
  });
}

/** The streams this process has made; one never used has nothing to flush (and making it costs ~1 ms). */
const made = new Set<'stdout' | 'stderr'>();

/** Waits until what was written to stdout and stderr has left this process. */
export async function flushStdio(): Promise<void> {
  for (const name of made) {
    const stream = process[name];
    if (stream.writableLength) await new Promise((resolve) => stream.write('', resolve));
  }
}

/** Once 64 KiB wait for a full pipe, the write that adds more waits for the reader. */
const WAITING_MAX = 64 * 1024;

const outputs: Output[] = [];

/** Node makes `process.stdout` on first access: patch it then (and put Node's getter back). */
function onFirstUse(name: 'stdout' | 'stderr', fd: 1 | 2): void {
  const node = Object.getOwnPropertyDescriptor(process, name);
  if (!node?.get || !node.configurable) return;
  Object.defineProperty(process, name, {
    configurable: true,
    enumerable: node.enumerable,
    get() {
      Object.defineProperty(process, name, node);
      made.add(name);
      const stream = node.get!.call(process) as Writable;
      try {
        const sink = sinkFor(stream, fd);
        if (sink) outputs.push(new Output(stream, sink));
      } catch {
        // Anything unexpected: the stream stays as Node made it.
      }
      return stream;
    },
  });
}

/** Where the bytes go: tried without waiting, or written whole, waiting for room. */
interface Sink {
  /** Bytes written now (0 when the pipe is full). */
  tryWrite(chunk: Buffer | string, encoding: BufferEncoding): number;
  /** A string this long or shorter is written whole or not at all (no need to count its bytes). */
  wholeChars: number;
  writeAll(buf: Buffer): void;
}

class Output {
  #waiting: Buffer[] = [];
  #waitingBytes = 0;
  /** Set when a write found the pipe full, until the end of that tick. */
  #full = false;
  #exiting = false;

  constructor(
    private stream: Writable,
    private sink: Sink,
  ) {
    // The Writable around these is unchanged: it calls them one at a time, and a callback called
    // synchronously reaches the writer's own callback on process.nextTick, as with any stream.
    stream._write = (chunk, encoding, cb) => {
      try {
        this.#write(chunk, encoding);
      } catch (err) {
        return cb(err as Error);
      }
      cb();
    };
    stream._writev = (chunks, cb) => {
      try {
        for (const { chunk, encoding } of chunks) this.#write(chunk, encoding as BufferEncoding);
      } catch (err) {
        return cb(err as Error);
      }
      cb();
    };
  }

  #write(chunk: Buffer | string, encoding: BufferEncoding): void {
    if (chunk.length === 0) return;
    if (this.#full) this.#wait(bytesOf(chunk, encoding));
    else {
      const done = this.sink.tryWrite(chunk, encoding);
      if (done > 0 && (typeof chunk === 'string' ? chunk.length <= this.sink.wholeChars || done === Buffer.byteLength(chunk, encoding) : done === chunk.length)) return;
      // Full: until the end of this tick what follows waits here, as it would in Node's queue.
      this.#full = true;
      this.#wait(bytesOf(chunk, encoding).subarray(done));
      process.nextTick(this.#endOfTick);
    }
    if (this.#exiting || this.#waitingBytes >= WAITING_MAX) this.#flush();
  }

  #endOfTick = () => {
    if (this.#exiting) return;
    this.#full = false;
    try {
      this.#flush();
    } catch (err) {
      this.stream.destroy(err as Error); // as a failed write of Node's own: an 'error' event
    }
  };

  #wait(buf: Buffer): void {
    this.#waiting.push(buf);
    this.#waitingBytes += buf.length;
  }

  #flush(): void {
    if (this.#waitingBytes === 0) return;
    const all = this.#waiting.length === 1 ? this.#waiting[0] : Buffer.concat(this.#waiting);
    this.#waiting = [];
    this.#waitingBytes = 0;
    this.sink.writeAll(all);
  }

  /** Writes what waits; what 'exit' listeners print later is written at once. */
  exiting(): void {
    this.#exiting = true;
    this.#full = true;
    try {
      this.#flush();
    } catch {
      // The reader is gone (EPIPE): nothing more can reach it.
    }
  }
}

/** A copy: the caller may reuse its buffer once the write's callback ran. */
function bytesOf(chunk: Buffer | string, encoding: BufferEncoding): Buffer {
  return typeof chunk === 'string' ? Buffer.from(chunk, encoding) : Buffer.from(chunk);
}

function sinkFor(stream: Writable, fd: number): Sink | null {
  const stat = fstatSync(fd);
  if (!stat.isFIFO() && !stat.isSocket()) return null;
  return ownPipe(fd) ?? sharedDescription(stream, fd);
}

/**
 * Linux, an anonymous pipe: reopened through /proc/self/fd it is a new open file description
 * of the same pipe, twice: one non-blocking, one blocking, neither shared with the parent and
 * siblings, whose O_NONBLOCK flag (one flag for every process holding the pipe) Node and libuv
 * keep flipping: each Node process sets it when it opens its stdout, libuv clears it in every
 * process it spawns with inherited stdio. Opening a pipe's write end never waits for a reader
 * (a named FIFO's would: those take the shared description). Node opens files close-on-exec:
 * this process's children inherit fd 1 and 2, not these.
 */
function ownPipe(fd: number): Sink | null {
  if (process.platform !== 'linux') return null;
  let nonBlocking: number;
  let blocking: number;
  try {
    if (!readlinkSync(`/proc/self/fd/${fd}`).startsWith('pipe:')) return null;
    nonBlocking = openSync(`/proc/self/fd/${fd}`, constants.O_WRONLY | constants.O_NONBLOCK);
    blocking = openSync(`/proc/self/fd/${fd}`, constants.O_WRONLY);
  } catch {
    return null; // a socket cannot be reopened (ENXIO)
  }
  return {
    tryWrite: (chunk, encoding) => tryWrite(nonBlocking, chunk, encoding),
    // A pipe writes up to PIPE_BUF (4096) bytes whole or not at all; a character is at most 3 bytes.
    wholeChars: 1365,
    writeAll(buf) {
      for (let done = 0; done < buf.length; ) done += writeSync(blocking, buf, done, buf.length - done);
    },
  };
}

/**
 * A socket (Node's `stdio: 'pipe'` is a socketpair), or a pipe elsewhere: the fd itself. When a
 * write finds it full, its description is made blocking for that write (and again whenever
 * another process made it non-blocking meanwhile), then non-blocking again, as Node keeps it.
 */
function sharedDescription(stream: Writable, fd: number): Sink {
  return {
    tryWrite: (chunk, encoding) => tryWrite(fd, chunk, encoding),
    wholeChars: 0,
    writeAll(buf) {
      let madeBlocking = false;
      try {
        for (let done = 0; done < buf.length; ) {
          try {
            done += writeSync(fd, buf, done, buf.length - done);
          } catch (err) {
            if ((err as NodeJS.ErrnoException)?.code !== 'EAGAIN') throw err;
            if (setBlocking(stream, true)) madeBlocking = true;
            else Atomics.wait((napCell ??= new Int32Array(new SharedArrayBuffer(4))), 0, 0, 1);
          }
        }
      } finally {
        if (madeBlocking) setBlocking(stream, false);
      }
    },
  };
}

/** Where a write that cannot make its description block waits 1 ms before it tries again. */
let napCell: Int32Array | undefined;

function tryWrite(fd: number, chunk: Buffer | string, encoding: BufferEncoding): number {
  try {
    return typeof chunk === 'string' ? writeSync(fd, chunk, null, encoding) : writeSync(fd, chunk, 0, chunk.length);
  } catch (err) {
    if ((err as NodeJS.ErrnoException)?.code === 'EAGAIN') return 0;
    throw err;
  }
}
