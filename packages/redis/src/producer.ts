// A process's puts to one queue, as the local Queue's feeder thread does them: put() buffers the
// encoded item, and whole slices of FLUSH_ITEMS go to the server at once (written to the socket
// while the program goes on putting), the rest once per event-loop turn; one connection keeps
// them in order (per-producer FIFO). An unbounded queue's put resolves at once, unless
// BACKLOG_ITEMS (or BACKLOG_BYTES) are not on the server yet: then it waits until half are. A
// bounded queue's put resolves once its item is in the queue: the script appends what fits, and
// the rest waits for a `space` event.
import { Full } from '@multiproc/errors';
import { abortError } from '@multiproc/core/internal';
import { hold } from './clients';
import type { Events } from './events';

const FLUSH_ITEMS = 1000;
const BACKLOG_ITEMS = 16 * FLUSH_ITEMS;
const BACKLOG_BYTES = 8 * 1024 * 1024;

interface Pending {
  data: Buffer;
  resolve: (() => void) | null;
  reject: ((err: Error) => void) | null;
  /** put with block false or timeout 0: fails at once if its first flush cannot place it. */
  nowait: boolean;
  /** Why it was given up (timeout, signal) while it was being flushed: it fails with this unless that flush placed it. */
  gone: Error | null;
  inFlight: boolean;
  cleanup: (() => void) | null;
}

export interface ProducerTarget {
  /** Appends the items in order as far as they fit; resolves with how many did. */
  push(batch: Buffer[]): Promise<number>;
  readonly events: () => Events;
  /** An error of the server, in words naming the queue. */
  failure(err: unknown): Error;
}

export class Producer {
  #buf: Pending[] = [];
  /** Items and bytes put and not yet on the server (buffered or in flight). */
  #items = 0;
  #bytes = 0;
  #scheduled = false;
  #boundedFlush: Promise<void> | null = null;
  #inFlight = 0;
  #error: Error | null = null;
  #drained: (() => void)[] = [];
  #roomWaiters: (() => void)[] = [];
  #release: (() => void) | null = null;
  #subscribed = false;

  constructor(private readonly target: ProducerTarget) {}

  /** A flush failed after the client's retries: the next put() and joinThread() report it (once). */
  takeError(): Error | null {
    const e = this.#error;
    this.#error = null;
    return e;
  }

  put(data: Buffer, maxsize: number, block: boolean, ms: number | null, signal: AbortSignal | undefined): Promise<void> {
    const p: Pending = { data, resolve: null, reject: null, nowait: !block || ms === 0, gone: null, inFlight: false, cleanup: null };
    this.#buf.push(p);
    this.#items++;
    this.#bytes += data.length;
    this.#release ??= hold();
    if (maxsize === 0) return this.#putUnbounded();
    this.#schedule(maxsize);
    return new Promise<void>((resolve, reject) => {
      p.resolve = resolve;
      p.reject = reject;
      if (p.nowait) return;
      const giveUp = (err: Error) => {
        p.gone = err;
        if (!p.inFlight) this.#drop(p, err);
      };
      const timer = ms === null ? null : setTimeout(() => giveUp(new Full(`put(obj): the queue is full (maxsize ${maxsize}) and stayed full for ${ms / 1000} s`)), ms);
      const onAbort = () => giveUp(abortError(signal!));
      signal?.addEventListener('abort', onAbort, { once: true });
      p.cleanup = () => {
        if (timer) clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
    });
  }

  #putUnbounded(): Promise<void> {
    if (this.#buf.length >= FLUSH_ITEMS) this.#send(this.#buf.splice(0));
    else this.#schedule(0);
    if (this.#items < BACKLOG_ITEMS && this.#bytes < BACKLOG_BYTES) return Promise.resolve();
    return new Promise((resolve) => this.#roomWaiters.push(resolve));
  }

  /** Resolves once everything put so far is on the server (or failed). */
  flushed(): Promise<void> {
    if (this.#items === 0) return Promise.resolve();
    return new Promise((resolve) => this.#drained.push(resolve));
  }

  /** close(): puts waiting for room in a bounded queue fail with `err`; what is placed or unbounded is still delivered. */
  abandon(err: Error): void {
    for (const p of [...this.#buf]) {
      if (!p.cleanup) continue;
      if (p.inFlight) p.gone ??= err;
      else this.#drop(p, err);
    }
  }

  #schedule(maxsize: number): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      if (maxsize > 0) void this.#flushBounded(maxsize);
      else if (this.#buf.length > 0) this.#send(this.#buf.splice(0));
    });
  }

  /** Unbounded: sends `batch` now, in slices; settles them when the server answers. */
  #send(batch: Pending[]): void {
    for (let i = 0; i < batch.length; i += FLUSH_ITEMS) {
      const slice = batch.slice(i, i + FLUSH_ITEMS);
      this.#inFlight++;
      this.target.push(slice.map((p) => p.data)).then(
        () => this.#sent(slice, null),
        (err) => this.#sent(slice, this.target.failure(err)),
      );
    }
  }

  #sent(slice: Pending[], err: Error | null): void {
    this.#inFlight--;
    for (const p of slice) this.#settle(p, err);
    this.#check();
  }

  /** Bounded: one flush at a time, as far as the queue has room. */
  async #flushBounded(maxsize: number): Promise<void> {
    if (this.#boundedFlush) return;
    let done!: () => void;
    this.#boundedFlush = new Promise((resolve) => (done = resolve));
    try {
      while (this.#buf.length > 0) {
        const batch = this.#buf.slice();
        for (const p of batch) p.inFlight = true;
        let placed = 0;
        try {
          placed = await this.target.push(batch.map((p) => p.data));
        } catch (err) {
          const e = this.target.failure(err);
          this.#buf.splice(0, batch.length);
          for (const p of batch) this.#settle(p, e);
          continue;
        }
        this.#buf.splice(0, batch.length);
        const rest: Pending[] = [];
        batch.forEach((p, i) => {
          p.inFlight = false;
          if (i < placed) this.#settle(p, null);
          else if (p.gone) this.#settle(p, p.gone);
          else if (p.nowait) this.#settle(p, new Full(`put(obj): the queue is full (maxsize ${maxsize})`));
          else rest.push(p);
        });
        this.#buf.unshift(...rest);
        if (rest.length > 0) await this.#waitForSpace();
      }
    } finally {
      this.#boundedFlush = null;
      done();
      if (this.#buf.length > 0) this.#schedule(maxsize);
      this.#check();
    }
  }

  async #waitForSpace(): Promise<void> {
    const events = this.target.events();
    // Subscribed first, then one more try: space freed before the subscription is not waited for.
    if (!this.#subscribed) {
      await events.subscribed();
      this.#subscribed = true;
      return;
    }
    await events.next(null).promise;
  }

  #drop(p: Pending, err: Error): void {
    const i = this.#buf.indexOf(p);
    if (i >= 0) this.#buf.splice(i, 1);
    this.#settle(p, err);
    this.#check();
  }

  /** A put that already resolved (unbounded) and then failed leaves its error for the next call. */
  #settle(p: Pending, err: Error | null): void {
    this.#items--;
    this.#bytes -= p.data.length;
    p.cleanup?.();
    if (!err) p.resolve?.();
    else if (p.reject) p.reject(err);
    else this.#error = err;
  }

  /** Wakes puts waiting for the backlog to shrink, and flushed() once nothing is left. */
  #check(): void {
    if (this.#items < BACKLOG_ITEMS / 2 && this.#bytes < BACKLOG_BYTES / 2) for (const w of this.#roomWaiters.splice(0)) w();
    if (this.#items > 0) return;
    this.#release?.();
    this.#release = null;
    for (const d of this.#drained.splice(0)) d();
  }
}
