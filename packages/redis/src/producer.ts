// A process's puts to one queue, as the local Queue's feeder thread does them: put() buffers the
// encoded item and a flush, once per event-loop turn, appends everything buffered with one script
// call per FLUSH_ITEMS, in order (per-producer FIFO). An unbounded queue's put resolves at once
// (or, past BACKLOG_BYTES not yet on the server, once it is); a bounded one's once the item is
// in the queue: the script appends what fits, and the rest waits for a `space` event.
import { Full } from '@multiproc/errors';
import { abortError } from '@multiproc/core/internal';
import { hold } from './clients';
import type { Events } from './events';

const FLUSH_ITEMS = 1000;
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
  readonly maxsize: () => Promise<number>;
  readonly events: () => Events;
  /** An error of the server, in words naming the queue. */
  failure(err: unknown): Error;
}

export class Producer {
  #buf: Pending[] = [];
  #bytes = 0;
  #flushing: Promise<void> | null = null;
  #scheduled = false;
  #error: Error | null = null;
  #drained: (() => void)[] = [];
  #release: (() => void) | null = null;

  constructor(private readonly target: ProducerTarget) {}

  /** A flush failed after the client's retries: the next put() and joinThread() report it (once). */
  takeError(): Error | null {
    const e = this.#error;
    this.#error = null;
    return e;
  }

  put(data: Buffer, bounded: boolean, block: boolean, ms: number | null, signal: AbortSignal | undefined, maxsize: number): Promise<void> {
    const p: Pending = { data, resolve: null, reject: null, nowait: !block || ms === 0, gone: null, inFlight: false, cleanup: null };
    this.#buf.push(p);
    this.#bytes += data.length;
    this.#schedule();
    if (!bounded && this.#bytes < BACKLOG_BYTES) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      p.resolve = resolve;
      p.reject = reject;
      if (!bounded || p.nowait) return;
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

  /** Resolves once everything put so far is on the server (or failed). */
  flushed(): Promise<void> {
    if (this.#buf.length === 0 && !this.#flushing) return Promise.resolve();
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

  #schedule(): void {
    if (this.#scheduled || this.#flushing) return;
    this.#scheduled = true;
    this.#release ??= hold();
    setImmediate(() => {
      this.#scheduled = false;
      void this.#flush();
    });
  }

  async #flush(): Promise<void> {
    if (this.#flushing) return;
    let done!: () => void;
    this.#flushing = new Promise((resolve) => (done = resolve));
    try {
      while (this.#buf.length > 0) {
        const batch = this.#buf.slice();
        for (const p of batch) p.inFlight = true;
        let maxsize = 0;
        let placed = 0;
        try {
          maxsize = await this.target.maxsize();
          const bounded = maxsize > 0;
          // Every slice at once: one connection keeps them in order.
          const counts = await Promise.all(sliced(batch, bounded ? batch.length : FLUSH_ITEMS).map((s) => this.target.push(s.map((p) => p.data))));
          placed = counts.reduce((a, b) => a + b, 0);
        } catch (err) {
          const e = this.target.failure(err);
          for (const p of batch) p.inFlight = false;
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
      this.#flushing = null;
      done();
      if (this.#buf.length > 0) this.#schedule();
      else {
        this.#release?.();
        this.#release = null;
        for (const d of this.#drained.splice(0)) d();
      }
    }
  }

  #subscribed = false;

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
  }

  /** A put that already resolved (unbounded, little backlog) and then failed leaves its error for the next call. */
  #settle(p: Pending, err: Error | null): void {
    this.#bytes -= p.data.length;
    p.cleanup?.();
    if (!err) p.resolve?.();
    else if (p.reject) p.reject(err);
    else this.#error = err;
  }
}

function sliced<T>(xs: T[], n: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += n) out.push(xs.slice(i, i + n));
  return out;
}
