import { writeSync } from 'node:fs';
import type { Socket } from 'node:net';
import { socketFd, unwrittenBytes } from './node-internals';

/** What a SocketWriter needs of the object it writes for (a Connection, a queue participant). */
export interface WriterOwner {
  /** Keeps the process alive while bytes wait to be written; returns the release. */
  hold(): () => void;
  /**
   * At exit: hands what the owner batched to the writer, and says whether what is left should
   * be written (false drops it: a queue's `cancelJoinThread()`).
   */
  beforeExit(): boolean;
  /** A write failed (EPIPE: the peer closed its end). Bytes after it are not written. */
  failed(err: Error): void;
  /** Names the owner in the warning printed when an exit could not deliver everything. */
  describe(): string;
}

/**
 * How long an exit waits for a peer that takes no byte at all before it gives up on what is
 * left (Python would wait forever in its feeder thread's join). Tests shorten it.
 */
const EXIT_STALL_MS = Number(process.env.MULTIPROC_EXIT_STALL_MS) || 10_000;

/** Writers holding bytes the kernel has not taken: the exit writes them synchronously. */
const unflushed = new Set<SocketWriter>();
let exitHooked = false;

/**
 * Writes bytes to a socket in order, and never loses them to `process.exit()`. What the kernel
 * takes at once goes from this thread (a system call); the rest is kept here and handed to the
 * socket one group at a time, so that at exit — when the event loop will not run again — the
 * writer knows exactly which bytes have not left (the group's unwritten tail, which libuv
 * reports, and everything kept after it) and writes them synchronously.
 */
export class SocketWriter {
  #socket: Socket | null = null;
  #queue: Buffer[] = [];
  #dones: ((() => void) | undefined)[] = [];
  #queued = 0;
  /** The group handed to the socket whose callback has not come yet. */
  #group: Buffer[] | null = null;
  #groupBytes = 0;
  #groupDones: ((() => void) | undefined)[] = [];
  #release: (() => void) | null = null;
  #flushWaiters: (() => void)[] = [];
  #error: Error | null = null;
  /** The owner holds bytes it has not handed over yet (a batch): an exit must ask for them. */
  #expecting = false;

  constructor(private readonly owner: WriterOwner) {}

  attach(socket: Socket): void {
    this.#socket = socket;
    this.#pump();
  }

  /** The write error that stopped this writer, if any. */
  get error(): Error | null {
    return this.#error;
  }

  /** Bytes not yet taken by the kernel (an upper bound: the group under way counts whole). */
  get pending(): number {
    return this.#queued + this.#groupBytes;
  }

  /**
   * The socket's descriptor when nothing of ours waits to be written (so bytes written to it
   * now stay in order), else -1.
   */
  idleFd(): number {
    const socket = this.#socket;
    if (this.#group || this.#queued > 0 || !socket || socket.connecting || this.#error) return -1;
    return socketFd(socket);
  }

  /** The owner holds bytes for this writer (a batch): an exit must ask for them. */
  expect(): void {
    this.#expecting = true;
    unflushed.add(this);
    hookExit();
  }

  /**
   * Writes `buf` after everything before it. `owned`: the caller will not touch `buf` again;
   * otherwise what cannot be written now is copied. `done` runs once the kernel has the bytes.
   */
  write(buf: Buffer, owned: boolean, done?: () => void): void {
    this.#expecting = false; // what the owner held comes now, before anything it writes after
    if (this.#error) return;
    const fd = this.idleFd();
    if (fd >= 0) {
      const n = this.#tryWrite(fd, buf);
      if (n < 0) return;
      if (n === buf.length) {
        unflushed.delete(this);
        return done?.();
      }
      buf = buf.subarray(n);
    }
    if (this.#queued + this.#groupBytes === 0) {
      this.#release = this.owner.hold();
      this.expect();
    }
    this.#queue.push(owned ? buf : Buffer.from(buf));
    this.#dones.push(done);
    this.#queued += buf.length;
    this.#pump();
  }

  /** One non-blocking write; the bytes taken, or -1 after an error (reported). */
  #tryWrite(fd: number, buf: Buffer): number {
    const traces = Error.stackTraceLimit;
    Error.stackTraceLimit = 0; // a full socket throws EAGAIN: keep it cheap
    try {
      return writeSync(fd, buf);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EAGAIN') return 0;
      Error.stackTraceLimit = traces;
      this.#fail(err as Error);
      return -1;
    } finally {
      Error.stackTraceLimit = traces;
    }
  }

  #pump(): void {
    const socket = this.#socket;
    if (this.#group || this.#queued === 0 || !socket || this.#error) return;
    if (socket.destroyed) return this.#fail(Object.assign(new Error('the socket is closed'), { code: 'EPIPE' }));
    const group = (this.#group = this.#queue);
    this.#groupBytes = this.#queued;
    this.#groupDones = this.#dones;
    this.#queue = [];
    this.#dones = [];
    this.#queued = 0;
    socket.cork(); // one system call (writev) for the whole group
    for (let i = 0; i < group.length; i++) socket.write(group[i], i === group.length - 1 ? (err) => this.#groupWritten(err) : undefined);
    socket.uncork();
  }

  #groupWritten(err: Error | null | undefined): void {
    const dones = this.#groupDones;
    this.#group = null;
    this.#groupBytes = 0;
    this.#groupDones = [];
    if (err) return this.#fail(err);
    for (const done of dones) done?.();
    if (this.#queued > 0) this.#pump();
    else this.#settle();
  }

  #fail(err: Error): void {
    if (this.#error) return;
    this.#error = err;
    this.#queue = [];
    this.#dones = [];
    this.#queued = 0;
    this.owner.failed(err);
    if (!this.#group) this.#settle();
  }

  /** Nothing is left to write (or nothing more can be). */
  #settle(): void {
    if (!this.#expecting) unflushed.delete(this);
    this.#release?.();
    this.#release = null;
    for (const resolve of this.#flushWaiters.splice(0)) resolve();
  }

  /** Resolves once the kernel has every byte written so far, or the writer failed. */
  flushed(): Promise<void> {
    if (this.pending === 0 || this.#error) return Promise.resolve();
    return new Promise((resolve) => this.#flushWaiters.push(resolve));
  }

  /**
   * At exit: writes what is left, blocking, while the peer takes bytes. Says how many bytes
   * could not be written (the peer read nothing for EXIT_STALL_MS, or the socket failed).
   */
  flushSync(): { left: number } {
    if (!this.owner.beforeExit()) return { left: 0 };
    const socket = this.#socket;
    const parts: Buffer[] = [];
    if (this.#group && socket) {
      // The group's head has left (libuv says how much has not); a connecting socket sent nothing.
      let left = socket.connecting ? this.#groupBytes : unwrittenBytes(socket);
      for (let i = this.#group.length - 1; i >= 0 && left > 0; i--) {
        const b = this.#group[i];
        parts.unshift(left >= b.length ? b : b.subarray(b.length - left));
        left -= b.length;
      }
    }
    parts.push(...this.#queue);
    this.#queue = [];
    this.#queued = 0;
    this.#group = null;
    this.#groupBytes = 0;
    const fd = socketFd(socket);
    let left = parts.reduce((n, b) => n + b.length, 0);
    if (left === 0 || this.#error || fd < 0) return { left };
    let stalledSince = performance.now();
    for (const part of parts) {
      let off = 0;
      while (off < part.length) {
        let n: number;
        try {
          n = writeSync(fd, part, off);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') return { left };
          n = 0;
        }
        off += n;
        left -= n;
        if (n > 0) stalledSince = performance.now();
        else if (performance.now() - stalledSince > EXIT_STALL_MS) return { left };
        else sleep(1);
      }
    }
    return { left: 0 };
  }

  /** For the warning: what this writer writes for. */
  describe(): string {
    return this.owner.describe();
  }
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));
function sleep(ms: number): void {
  Atomics.wait(sleeper, 0, 0, ms);
}

/**
 * Python's exit joins its queues' feeder threads; Node's `process.exit()` runs no more I/O. So
 * the first 'exit' listener writes what every writer still holds, synchronously (before a
 * child tells its parent its exit code). A signal that kills the process skips it, as in Python.
 */
function hookExit(): void {
  if (exitHooked) return;
  exitHooked = true;
  process.prependListener('exit', flushAllAtExit);
}

function flushAllAtExit(): void {
  for (const writer of [...unflushed]) {
    unflushed.delete(writer);
    const { left } = writer.flushSync();
    if (left > 0) {
      // Warnings are emitted on a later tick, which never comes now: write it ourselves.
      try {
        writeSync(
          2,
          `(node:${process.pid}) MultiprocWarning: ${writer.describe()}: ${left} bytes sent before this process exited could not be delivered (the peer read nothing for ${EXIT_STALL_MS / 1000} s, or is gone)\n`,
        );
      } catch {
        // stderr is gone too
      }
    }
  }
}
