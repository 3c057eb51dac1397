import { closeSync, openSync, readFileSync, readSync, unlinkSync, writeFileSync } from 'node:fs';
import type * as Net from 'node:net';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { abortError, decodeMessage, encodeMessage, FrameWriter, onTraceChange } from '@multiproc/core/internal';
import { Empty, Full, ProcessError } from '@multiproc/errors';
import { isOwnBroker } from './broker-thread';
import { Fifo } from './fifo';
import { tagItem, untagItem } from './trace';
import { copyingOnRead, EMPTY, f64Frame, FrameReader, HEADER, handedFile, SEEN_BYTES, SIZE_BYTES, sizeOffset, T, frame, u32Frame, writeHanded, type QueueDescriptor } from './wire';

// node:net costs ~2 ms to load: loaded by the first participant, not with the package.
let net: typeof Net | undefined;

/** Frames are gathered into one write per tick, or sooner once this many bytes wait. */
const BATCH = 64 * 1024;
/** Bytes queued in the socket past which put() waits for the broker to take them. */
const WRITE_LIMIT = 4 * 1024 * 1024;
/**
 * A consumer that takes items quickly asks for some ahead, so it does not pay a round trip per
 * item: a queue's only consumer about WINDOW_MS of its pace. One of several reads ahead only
 * while its program comes back for the next item within FAST_MS (otherwise the round trip costs
 * little next to its work, and items it held would wait for it), about SHARED_WINDOW_MS of
 * items, and not for CALM_MS after the broker recalled what it held. Either at most MAX_AHEAD
 * items, and about AHEAD_BYTES at their average size (a consumer of big items reads few ahead).
 */
const MAX_AHEAD = 1024;
const AHEAD_BYTES = 4 * 1024 * 1024;
const WINDOW_MS = 4;
const FAST_MS = 0.02;
/** One sample's most weight: a preemption or a GC pause between two gets is not a slow program. */
const THINK_CAP_MS = 4 * FAST_MS;
const SHARED_WINDOW_MS = 1;
const CALM_MS = 5;
/** Items this big travel through a file in memory (see T.Spilled). */
const SPILL_MIN = 256 * 1024;
let spills = 0;

interface Waiter {
  resolve(value: any): void;
  reject(err: Error): void;
  nowait: boolean;
  done?(): void;
}

interface Putter extends Waiter {
  frame: Buffer;
}

const RESOLVED = Promise.resolve();
/** A closed queue's error: for-await ends quietly on it. */
export const CLOSED = Symbol('multiproc.queue.closed');

/** Whether a trace is under way: the one test puts and gets pay when it is not. */
let tracing = false;
onTraceChange((on) => (tracing = on));


/**
 * One process's connection to a queue's broker: writes items and requests, keeps the items sent
 * ahead to this consumer, and settles the waits. The public classes check arguments and call it.
 */
export class Participant {
  /** Python's join_thread at exit: what was put is written before the process ends. */
  joinAtExit = true;
  #socket: Socket;
  /** Our frames, batched until this turn's I/O is done (one write for many puts). */
  #out = new FrameWriter(
    {
      hold: () => this.#hold(),
      writeAtExit: () => this.joinAtExit,
      failed: (err) => {
        const gone = this.#gone(err);
        this.#fail(gone);
        return gone;
      },
      describe: () => 'a Queue',
    },
    { flushOn: 'immediate', firstAtOnce: false, small: BATCH - HEADER, spinBig: false },
  );
  #failure: Error | null = null;
  #closed = false;
  #slot = -1;
  #handedFd = -1;
  #handedBySize = true;
  /**
   * The broker is a thread of this process: a kill ends it too, so while we are the only
   * consumer the `handed` file matters only when we leave alive (written once, at close).
   */
  #ownBroker: boolean;
  #seen = -1;
  #sizes = -1;
  #holds = 0;


  #items = new Fifo<Buffer>();
  #getters: Waiter[] = [];
  #blocking = 0;
  /** Items asked for (Want, Try) and not arrived yet. */
  #expected = 0;
  #handed = 0;
  #ackDue = false;
  #ahead = 0;
  #alone = true;
  /** When we last asked, and how many we had handed then. */
  #askedAt = -0;
  #askedHanded = 0;
  /** What the broker was last told of gets waiting here with nothing to take. */
  #urgentSent = 0;
  // Times (ms) start as doubles (-0 is one, 0 is not): a field that goes from a small integer to
  // a fraction changes its object's shape, which deoptimizes every function compiled for it.
  /** The program's time between taking an item and asking for the next (moving average of samples; negative before the first). */
  #think = -0.5;
  #handedAt = -0;
  #calmUntil = -0;
  /** The items' average size as they arrive, in bytes (a double too). */
  #itemBytes = 0.5;
  /** No-wait gets asked of the broker and not answered; those asked before a Recall. */
  #tries = 0;
  #staleTries = 0;
  #f64 = Buffer.alloc(SEEN_BYTES);

  #puts = 0;
  #permits = 0;
  #putters: Putter[] = [];
  #taskDones: Waiter[] = [];
  #joins = new Map<number, Waiter>();
  #joinId = 0;

  constructor(readonly d: QueueDescriptor) {
    this.#ownBroker = isOwnBroker(d.dir);
    const reader = new FrameReader((type, whole) => this.#onFrame(type, whole));
    const onread = copyingOnRead((chunk) => {
      try {
        reader.push(chunk);
      } catch (err) {
        // The queue's files gone: its process is ending (or ended) and took them along.
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') this.#fail(this.#gone(err as Error));
        else this.#fail(new ProcessError(`the queue's broker sent bytes that are not queue messages: ${(err as Error).message}`));
      }
      return true;
    });
    this.#socket = (net ??= require('node:net') as typeof Net).connect({ path: join(d.dir, 'queue.sock'), onread });
    this.#socket.unref();
    this.#socket.on('error', (err) => this.#fail(this.#gone(err)));
    this.#socket.on('close', () => {
      this.#release();
      if (!this.#closed) this.#fail(this.#gone());
    });
    const { token, n, maxsize, joinable } = d;
    this.#out.attach(this.#socket);
    this.#out.framed(frame(T.Hello, Buffer.from(JSON.stringify({ n, maxsize, joinable, token }))));
  }

  get closed(): boolean {
    return this.#closed;
  }

  #gone(cause?: Error): Error {
    return new ProcessError(
      `the queue is gone: the process that holds its items (pid ${this.d.owner}, which created the Queue) has ended or cannot be reached`,
      { cause },
    );
  }

  /** Rejects every wait and makes every later call throw `err`. */
  #fail(err: Error): void {
    if (this.#failure || this.#closed) return;
    this.#failure = err;
    this.#rejectAll(err);
    if (this.#ownBroker && this.#handedFd >= 0) this.#writeHanded();
    this.#socket.destroy();
  }

  #rejectAll(err: Error): void {
    for (const p of this.#putters) this.#discard(p);
    const all = [...this.#getters, ...this.#putters, ...this.#taskDones, ...this.#joins.values()];
    this.#getters = [];
    this.#putters = [];
    this.#taskDones = [];
    this.#joins.clear();
    this.#blocking = 0;
    for (const w of all) this.#settle(w, () => w.reject(err));
  }

  check(what: string): void {
    if (this.#closed) throw Object.assign(new ProcessError(`${what}: the queue is closed`), { [CLOSED]: true });
    if (this.#failure) throw this.#failure;
  }

  // ---- keeping the process alive while something waits or is unwritten

  #hold(): () => void {
    if (this.#holds++ === 0) this.#socket.ref();
    let held = true;
    return () => {
      if (held && ((held = false), --this.#holds === 0)) this.#socket.unref();
    };
  }

  #settle(w: Waiter, fn: () => void): void {
    w.done?.();
    fn();
  }

  /** Calls `w` back on timeout or abort; returns the promise the caller gets. */
  #wait<V>(w: Partial<Waiter>, ms: number | null, signal: AbortSignal | undefined, onGiveUp: (w: Waiter) => Error | null): Promise<V> {
    return new Promise<V>((resolve, reject) => {
      const release = this.#hold();
      let timer: NodeJS.Timeout | undefined;
      const onAbort = () => {
        const err = onGiveUp(w as Waiter);
        if (err) this.#settle(w as Waiter, () => reject(abortError(signal!)));
      };
      w.resolve = resolve;
      w.reject = reject;
      w.done = () => {
        release();
        if (timer) clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
      if (ms !== null) {
        timer = setTimeout(() => {
          const err = onGiveUp(w as Waiter);
          if (err) this.#settle(w as Waiter, () => reject(err));
        }, ms);
      }
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  // ---- writing

  #append(type: T, payload: Buffer): void {
    this.#out.frame(type, payload);
  }

  #appendFrame(f: Buffer): void {
    this.#out.framed(f);
  }

  #flushBatch(): void {
    this.#out.flush();
  }

  /** Resolves once everything put so far is with the kernel. */
  flushed(): Promise<void> {
    return this.#out.flushed();
  }

  #pressure(): Promise<void> {
    if (this.#out.pending < WRITE_LIMIT) return RESOLVED;
    // A broker that went away also ends the wait: the next call reports it.
    return this.#out.flushed();
  }

  // ---- putting

  put(obj: unknown, block: boolean, ms: number | null, signal: AbortSignal | undefined): Promise<void> {
    this.check('put(obj)');
    if (signal?.aborted) return Promise.reject(abortError(signal));
    const [type, payload] = this.#encode(obj);
    if (this.d.maxsize === 0 || (this.#permits > 0 && this.#putters.length === 0)) {
      if (this.d.maxsize > 0) this.#permits--;
      this.#append(type, payload);
      this.#puts++;
      return this.#pressure();
    }
    const nowait = !block || ms === 0;
    const p: Partial<Putter> = { frame: frame(type, payload), nowait };
    this.#appendFrame(nowait ? frame(T.TryPermit) : u32Frame(T.Permit, 1));
    const promise = this.#wait<void>(p, nowait ? null : ms, signal, (w) => {
      if (!this.#putters.includes(w as Putter)) return null;
      this.#putters = this.#putters.filter((x) => x !== w);
      this.#discard(w as Putter);
      // A permit asked for and no longer wanted; if it was granted already it comes back as spare.
      if (!nowait) this.#appendFrame(releaseFrame(0, 1));
      return new Full(`put(obj): the queue is full (maxsize ${this.d.maxsize})${ms !== null ? ` and stayed full for ${ms / 1000} s` : ''}`);
    });
    this.#putters.push(p as Putter);
    return promise;
  }

  /** The frame type and payload for `obj`; a big one goes to a file now (copied, so the caller may change obj). */
  #encode(obj: unknown): [T, Buffer] {
    let payload = encodeMessage(obj, 'put(obj)');
    if (tracing) payload = tagItem(payload);
    if (payload.length < SPILL_MIN) return [T.Item, payload];
    const name = `spill-${process.pid}-${spills++}`;
    writeFileSync(join(this.d.dir, name), payload, { mode: 0o600 });
    return [T.Spilled, Buffer.from(name)];
  }

  /** A put that will not happen: the file of a big item goes too. */
  #discard(p: Putter): void {
    if (p.frame[4] !== T.Spilled) return;
    try {
      unlinkSync(join(this.d.dir, p.frame.subarray(HEADER).toString()));
    } catch {
      // gone with the broker's directory
    }
  }

  #servePutters(): void {
    while (this.#permits > 0 && this.#putters.length > 0) {
      const p = this.#putters.shift()!;
      this.#permits--;
      this.#appendFrame(p.frame);
      this.#puts++;
      this.#settle(p, () => p.resolve(undefined));
    }
    if (this.#permits > 0 && this.#putters.length === 0) {
      this.#appendFrame(releaseFrame(this.#permits, 0));
      this.#permits = 0;
    }
  }

  // ---- getting

  get(block: boolean, ms: number | null, signal: AbortSignal | undefined): Promise<unknown> {
    this.check('get()');
    if (signal?.aborted) return Promise.reject(abortError(signal));
    if (this.#handedAt > 0) {
      const ms = Math.min(THINK_CAP_MS, performance.now() - this.#handedAt);
      this.#think = this.#think < 0 ? ms : 0.8 * this.#think + 0.2 * ms;
      this.#handedAt = 0;
    }
    if (this.#items.length > 0 && this.#getters.length === 0) {
      let value: unknown;
      try {
        value = this.#hand();
      } catch (err) {
        return Promise.reject(err as Error);
      } finally {
        this.#askAhead();
        this.#startThinking();
      }
      return Promise.resolve(value);
    }
    const nowait = !block || ms === 0;
    const w: Partial<Waiter> = { nowait };
    const promise = this.#wait(w, nowait ? null : ms, signal, (x) => this.#giveUp(x));
    this.#getters.push(w as Waiter);
    if (nowait) {
      this.#expected++;
      this.#tries++;
      this.#appendFrame(frame(T.Try));
    } else {
      this.#blocking++;
      this.#askAhead();
    }
    return promise;
  }

  /** A get timed out or was aborted: withdraw what was asked for it and is no longer needed. */
  #giveUp(w: Waiter): Error | null {
    const i = this.#getters.indexOf(w);
    if (i < 0 || w.nowait) return null;
    this.#getters.splice(i, 1);
    this.#blocking--;
    this.#ahead = 0;
    const excess = Math.min(this.#expected, this.#items.length + this.#expected - this.#blocking);
    if (excess > 0) this.#appendFrame(u32Frame(T.Cancel, excess));
    this.#askAhead();
    return new Empty('get(): the queue is empty');
  }

  /** Gives the next item to the program. Its `handed` file learns first: a kill at any moment loses nothing it did not take. */
  #hand(): unknown {
    const whole = this.#items.shift()!;
    this.#handed++;
    // With other consumers the broker reads it to see what we still hold (see T.Recall).
    if (!this.#ownBroker || !this.#alone) this.#writeHanded();
    // A bounded queue's producers wait for this room: tell the broker (once per tick).
    if (this.d.maxsize > 0 && !this.#ackDue) {
      this.#ackDue = true;
      setImmediate(() => {
        this.#ackDue = false;
        if (!this.#closed && !this.#failure) this.#appendFrame(wantFrame(0, this.#handed, this.#urgentSent));
      });
    }
    if (whole[4] !== T.Spilled) return tracing ? decodeMessage(untagItem(whole.subarray(HEADER))) : decodeMessage(whole, HEADER);
    const file = join(this.d.dir, whole.toString('utf8', HEADER));
    const data = readFileSync(file);
    unlinkSync(file);
    return decodeMessage(tracing ? untagItem(data) : data);
  }

  /**
   * The program's turn starts once our work for its get is done (a write to the broker there is
   * not its time). A fast program is sampled one get in 16, as reading the clock costs about as
   * much as the rest of a get; any other at every get, so it is known to be fast again within a few.
   */
  #startThinking(): void {
    if (!this.#alone && ((this.#handed & 15) === 0 || !this.#fast())) this.#handedAt = performance.now();
  }

  #serveGetters(): void {
    const handed = this.#handed;
    while (this.#items.length > 0 && this.#getters.length > 0) {
      const w = this.#getters.shift()!;
      if (!w.nowait) this.#blocking--;
      let value: unknown;
      try {
        value = this.#hand();
      } catch (err) {
        this.#settle(w, () => w.reject(err as Error));
        continue;
      }
      this.#settle(w, () => w.resolve(value));
    }
    this.#askAhead();
    if (this.#handed !== handed) this.#startThinking();
  }

  #fast(): boolean {
    return this.#think >= 0 && this.#think < FAST_MS;
  }

  /** Asks the broker for the items waiting gets need, plus some ahead for a fast consumer. */
  #askAhead(): void {
    if (this.#closed || this.#failure) return;
    const have = this.#items.length + this.#expected;
    // With other consumers, the broker learns whenever gets here start or stop waiting with
    // nothing to take: waiting ones take any producer's items and, if others hold them, recall them.
    const urgent = Math.max(0, this.#blocking - this.#items.length);
    const told = this.#alone || (urgent > 0) === (this.#urgentSent > 0);
    if (have >= this.#blocking + (this.#ahead >> 1) && have > 0 && told) return;
    if (have >= this.#blocking && this.#ahead === 0 && told) return;
    const now = performance.now();
    const rate = (this.#handed - this.#askedHanded) / Math.max(now - this.#askedAt, 0.001);
    const most = Math.min(MAX_AHEAD, Math.floor(AHEAD_BYTES / this.#itemBytes));
    this.#ahead = this.#alone
      ? Math.min(most, Math.floor(rate * WINDOW_MS))
      : this.#fast() && now >= this.#calmUntil
        ? Math.min(most, Math.floor(SHARED_WINDOW_MS / Math.max(this.#think, 0.002)))
        : 0;
    this.#askedAt = now;
    this.#askedHanded = this.#handed;
    const n = Math.max(0, this.#blocking + this.#ahead - have);
    if (n === 0 && told) return;
    this.#expected += n;
    this.#urgentSent = urgent;
    this.#appendFrame(wantFrame(n, this.#handed, urgent));
    // At once, not at the end of the tick: a consumer taking buffered items in a tight loop
    // does not yield to the event loop until it runs dry.
    this.#flushBatch();
  }

  // ---- joinable queues

  taskDone(): Promise<void> {
    this.check('taskDone()');
    const w: Partial<Waiter> = { nowait: true };
    const promise = this.#wait<void>(w, null, undefined, () => null);
    this.#taskDones.push(w as Waiter);
    this.#appendFrame(u32Frame(T.TaskDone, 1));
    return promise;
  }

  join(ms: number | null, signal: AbortSignal | undefined): Promise<boolean> {
    this.check('join()');
    if (signal?.aborted) return Promise.reject(abortError(signal));
    const id = this.#joinId++;
    const w: Partial<Waiter> = { nowait: false };
    const promise = this.#wait<boolean>(w, ms, signal, () => (this.#joins.delete(id) ? TIMED_OUT : null));
    this.#joins.set(id, w as Waiter);
    this.#appendFrame(u32Frame(T.Join, id));
    return promise.catch((err) => {
      if (err === TIMED_OUT) return false;
      throw err;
    });
  }

  // ---- sizes

  qsize(): number {
    this.check('qsize()');
    if (this.#sizes < 0) {
      try {
        this.#sizes = openSync(join(this.d.dir, 'sizes'), 'r');
      } catch (err) {
        throw this.#gone(err as Error);
      }
    }
    const b = this.#f64;
    const read = (fd: number, bytes: number, at: number) => readSync(fd, b, 0, bytes, at) === bytes;
    let size = 0;
    // A consistent view: the broker's version is even and the same before and after.
    for (let tries = 0; tries < 1000; tries++) {
      const before = read(this.#sizes, 8, 0) ? b.readDoubleLE(0) : 0;
      size = read(this.#sizes, SIZE_BYTES, sizeOffset(this.d.n)) ? b.readDoubleLE(0) : 0;
      // Add what this process did that the broker has not published yet.
      if (this.#slot >= 0 && read(this.#seen, SEEN_BYTES, this.#slot * SEEN_BYTES)) {
        size += this.#puts - b.readDoubleLE(0) - (this.#handed - b.readDoubleLE(8));
      } else size += this.#puts;
      if (before % 2 === 0 && read(this.#sizes, 8, 0) && b.readDoubleLE(0) === before) break;
    }
    return Math.max(0, size);
  }

  // ---- from the broker

  #onFrame(type: number, whole: Buffer): void {
    const payload = type === T.Item || type === T.Spilled ? EMPTY : whole.subarray(HEADER);
    switch (type) {
      case T.Hello:
        this.#slot = payload.readUInt32LE(0);
        this.#handedFd = openSync(handedFile(this.d.dir, this.#slot), 'r+');
        this.#seen = openSync(join(this.d.dir, 'seen'), 'r');
        return;
      case T.Item:
      case T.Spilled:
        if (this.#closed) return; // the broker puts it back when we are gone
        this.#items.push(whole);
        this.#itemBytes += (whole.length - this.#itemBytes) / 4;
        this.#expected--;
        this.#serveGetters();
        return;
      case T.Try: {
        this.#tries--;
        // An answer to a try asked before a Recall: what we expect was counted anew since.
        if (this.#staleTries > 0) this.#staleTries--;
        else if (payload[0] === 1) return; // its item came just before
        else this.#expected--;
        // One of our no-wait gets found nothing to take.
        const i = this.#getters.findIndex((w) => w.nowait);
        if (i >= 0) {
          const [w] = this.#getters.splice(i, 1);
          this.#settle(w, () => w.reject(new Empty('get(): the queue is empty')));
        }
        return;
      }
      case T.Consumers:
        this.#alone = payload.readUInt32LE(0) <= 1;
        // The broker reads our `handed` file from now on to see what we still hold.
        if (!this.#alone && this.#ownBroker && this.#handedFd >= 0) this.#writeHanded();
        this.#askAhead();
        return;
      case T.Recall: {
        // Another consumer waits for items we hold and have not handed: they go back, in their
        // places, and we ask anew for what our waiting gets need.
        if (this.#closed) return; // leaving: the broker takes them back anyway
        this.#items.drain();
        this.#expected = 0;
        this.#urgentSent = 0;
        this.#staleTries = this.#tries;
        this.#ahead = 0;
        this.#calmUntil = performance.now() + CALM_MS;
        this.#appendFrame(f64Frame(T.Returned, this.#handed));
        this.#askAhead();
        this.#flushBatch();
        return;
      }
      case T.Cancel:
        this.#expected -= payload.readUInt32LE(0);
        this.#askAhead();
        return;
      case T.Permit:
        this.#permits += payload.readUInt32LE(0);
        this.#servePutters();
        return;
      case T.TryPermit: {
        const i = this.#putters.findIndex((w) => w.nowait);
        if (i >= 0) {
          const [w] = this.#putters.splice(i, 1);
          this.#discard(w);
          this.#settle(w, () => w.reject(new Full(`put(obj): the queue is full (maxsize ${this.d.maxsize})`)));
        }
        return;
      }
      case T.TaskDone: {
        const w = this.#taskDones.shift();
        if (w) this.#settle(w, () => (payload[0] === 1 ? w.resolve(undefined) : w.reject(new ProcessError('taskDone() called too many times: more than items were put'))));
        return;
      }
      case T.Join: {
        const id = payload.readUInt32LE(0);
        const w = this.#joins.get(id);
        this.#joins.delete(id);
        if (w) this.#settle(w, () => w.resolve(true));
        return;
      }
      case T.Error:
        this.#fail(new ProcessError(`the queue's broker refused this process: ${payload.toString()}`));
        return;
    }
  }

  // ---- closing

  /** No more gets or puts here; what was put is still delivered, what was sent ahead goes back. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const err = Object.assign(new ProcessError('the queue was closed'), { [CLOSED]: true });
    this.#rejectAll(err);
    this.#flushBatch();
    if (this.#ownBroker && this.#handedFd >= 0) this.#writeHanded(); // before the broker learns we left
    // After what is still to be written: end() before it would lose it.
    void this.#out.flushed().then(() => {
      if (!this.#socket.destroyed) this.#socket.end();
    });
  }

  /** Resolves once everything this process put has been handed to the broker (Python's join_thread). */
  joined(): Promise<void> {
    if (this.#socket.closed) return RESOLVED;
    const release = this.#hold();
    return new Promise((resolve) => this.#socket.once('close', () => (release(), resolve())));
  }

  #writeHanded(): void {
    this.#handedBySize = writeHanded(this.#handedFd, this.#handed, this.#handedBySize, this.#f64);
  }

  #release(): void {
    for (const fd of [this.#handedFd, this.#seen, this.#sizes]) if (fd >= 0) closeSync(fd);
    this.#handedFd = this.#seen = this.#sizes = -1;
  }
}

const TIMED_OUT = new Error('timed out');

function wantFrame(n: number, handed: number, urgent: number): Buffer {
  const f = Buffer.allocUnsafe(HEADER + 16);
  f.writeUInt32LE(16, 0);
  f[4] = T.Want;
  f.writeUInt32LE(n, HEADER);
  f.writeDoubleLE(handed, HEADER + 4);
  f.writeUInt32LE(urgent, HEADER + 12);
  return f;
}

function releaseFrame(permits: number, wants: number): Buffer {
  const f = Buffer.allocUnsafe(HEADER + 8);
  f.writeUInt32LE(8, 0);
  f[4] = T.Release;
  f.writeUInt32LE(permits, HEADER);
  f.writeUInt32LE(wants, HEADER + 4);
  return f;
}
