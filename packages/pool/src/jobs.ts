/**
 * A pool's calls as chunks, whoever runs them: how apply, map and imap cut their input into
 * chunks, and how the chunks' results make the call's result. The local Pool and
 * @multiproc/redis's RemotePool differ only in how a chunk reaches a worker and comes back.
 */
import type { AsyncOptions, MapOptions } from '@multiproc/core';
import { describeValue } from '@multiproc/core/internal';
import { AsyncResult } from './async-result';
import { copyInto, pack, Slice, type Packed } from './pack';
import type { Progress } from './progress';

/** What a call does with each of its chunks' outcomes. */
export interface Job {
  chunkDone(chunk: JobChunk, results: ArrayLike<unknown>): void;
  chunkFailed(chunk: JobChunk, error: unknown): void;
}

/** What every pool's chunk holds for its job. */
export interface JobChunk {
  job: Job;
  /** Its position among its job's chunks. */
  index: number;
  /** Done, failed or dropped: it counts no more. */
  settled: boolean;
}

/**
 * A local worker's pipeline depth: chunks sent ahead to it, at least 2 (long tasks are not
 * hoarded by one worker), at most 256. An imap's window is sized from it, for both pools.
 */
export const MIN_DEPTH = 2;
export const MAX_DEPTH = 256;

/**
 * The chunks a pool owes results for, each settled once: its first outcome goes to its job, any
 * later one (a result after terminate(), or after a retry) is ignored. While some are owed, the
 * process is kept alive (an idle pool does not keep it).
 */
export class Unsettled<C extends JobChunk> {
  #count = 0;
  #keepAlive: NodeJS.Timeout | null = null;
  #onSettled: ((chunk: C) => void) | undefined;

  /** `onSettled`: the pool's own bookkeeping, run as each chunk settles, before its job hears of it. */
  constructor(onSettled?: (chunk: C) => void) {
    this.#onSettled = onSettled;
  }

  add(): void {
    if (this.#count++ === 0) this.#keepAlive ??= setInterval(() => {}, 2 ** 30);
  }

  done(chunk: C, results: ArrayLike<unknown>): void {
    if (this.settle(chunk)) chunk.job.chunkDone(chunk, results);
  }

  failed(chunk: C, error: unknown): void {
    if (this.settle(chunk)) chunk.job.chunkFailed(chunk, error);
  }

  /** Whether the chunk was not settled yet; the last one settled lets the process exit. */
  settle(chunk: C): boolean {
    if (chunk.settled) return false;
    chunk.settled = true;
    if (--this.#count === 0 && this.#keepAlive) {
      clearInterval(this.#keepAlive);
      this.#keepAlive = null;
    }
    this.#onSettled?.(chunk);
    return true;
  }
}

/** An apply: one chunk, whose one result is the call's. */
export function applyJob<T>(options: AsyncOptions<T>, submit: (job: Job) => void): AsyncResult<T> {
  const result = new AsyncResult<T>();
  submit({
    chunkDone: (_c, results) => settle(result, options, { ok: true, value: results[0] as T }),
    chunkFailed: (_c, error) => settle(result, options, { ok: false, error }),
  });
  return result;
}

/** A map's input, checked: its items, and its chunksize (Python's default: about four chunks per process). */
export function mapInput(what: string, iterable: Iterable<unknown>, options: MapOptions, processes: number): { items: ArrayLike<unknown>; chunksize: number } {
  const items = toArray(iterable, what);
  const chunksize = options.chunksize ?? defaultChunksize(items.length, processes);
  checkChunksize(chunksize, what);
  return { items, chunksize };
}

/**
 * A map: the items cut into chunks of `chunksize` (each a Slice, cut when it is sent), handed to
 * `submit` in order; the result is their results in input order, or the first chunk's error.
 */
export function mapJob<T>(
  { items, chunksize }: { items: ArrayLike<unknown>; chunksize: number },
  star: boolean,
  options: AsyncOptions<T[]>,
  bar: Progress | null,
  submit: (job: Job, slice: Slice, index: number) => void,
): AsyncResult<T[]> {
  const result = new AsyncResult<T[]>();
  let left = Math.ceil(items.length / chunksize);
  // Made when the first results come (a big one takes a while): not before the first chunks are out.
  let out: unknown[] | null = null;
  const job: Job = {
    chunkDone: (c, results) => {
      out ??= new Array(items.length);
      copyInto(out, c.index * chunksize, results);
      bar?.increment(results.length);
      if (--left === 0) settle(result, options, { ok: true, value: out as T[] }, bar);
    },
    chunkFailed: (_c, error) => settle(result, options, { ok: false, error }, bar),
  };
  if (left === 0) settle(result, options, { ok: true, value: [] }, bar);
  for (let i = 0; i * chunksize < items.length; i++) submit(job, new Slice(items, i * chunksize, Math.min(items.length, (i + 1) * chunksize), star), i);
  return result;
}

/** An imap's input, checked: an iterator over it, and its chunksize (default 1, as Python's). */
export function imapInput(
  what: string,
  iterable: Iterable<unknown> | AsyncIterable<unknown>,
  options: MapOptions,
): { source: Iterator<unknown> | AsyncIterator<unknown>; chunksize: number } {
  const chunksize = options.chunksize ?? 1;
  checkChunksize(chunksize, what);
  return { source: iterate(iterable, what), chunksize };
}

/** What an imap asks of its pool. */
export interface ImapPool {
  /** Queues (or sends) a chunk; throws when the pool no longer takes tasks. */
  submit(job: Job, items: Packed, index: number): void;
  /** After each batch of submits: sends what was queued. */
  pump?(): void;
  /** The caller is gone: takes the job's unsent chunks back, settled. */
  drop(job: Job): void;
}

/**
 * An imap: reads the input a chunk at a time as results are taken, and yields each chunk's
 * results in input order (`ordered`) or in the order the chunks finish.
 */
export function imapJob<T>(
  { source, chunksize }: { source: Iterator<unknown> | AsyncIterator<unknown>; chunksize: number },
  processes: number,
  ordered: boolean,
  bar: Progress | null,
  pool: ImapPool,
): AsyncIterableIterator<T> {
  // Chunks out at once, at most: memory stays bounded however long the input is. Per worker,
  // enough to fill its pipeline (MAX_DEPTH items, or a few chunks of big ones), no more.
  const window = processes * Math.max(2 * MIN_DEPTH, Math.ceil(MAX_DEPTH / chunksize));
  return (async function* (): AsyncGenerator<T> {
    const finished = new Map<number, { ok: boolean; results?: ArrayLike<unknown>; error?: unknown }>();
    let issued = 0;
    let taken = 0;
    let exhausted = false;
    let wake: (() => void) | null = null;
    const job: Job = {
      chunkDone: (c, results) => {
        finished.set(c.index, { ok: true, results });
        wake?.();
      },
      chunkFailed: (c, error) => {
        finished.set(c.index, { ok: false, error });
        wake?.();
      },
    };
    try {
      for (;;) {
        while (!exhausted && issued - taken < window) {
          const items: unknown[] = [];
          while (items.length < chunksize) {
            const next = await source.next();
            if (next.done) {
              exhausted = true;
              break;
            }
            items.push(next.value);
          }
          if (items.length > 0) pool.submit(job, pack(items), issued++);
        }
        pool.pump?.();
        if (exhausted && taken === issued) return;
        let key: number | undefined = ordered ? taken : finished.keys().next().value;
        while (key === undefined || !finished.has(key)) {
          await new Promise<void>((resolve) => (wake = resolve));
          wake = null;
          key = ordered ? taken : finished.keys().next().value;
        }
        const r = finished.get(key)!;
        finished.delete(key);
        taken++;
        if (!r.ok) throw r.error;
        bar?.increment(r.results!.length);
        const results = r.results!;
        for (let i = 0; i < results.length; i++) yield results[i] as T;
      }
    } finally {
      // The loop broke or threw: what is not sent yet is not sent (what is, is let finish).
      pool.drop(job);
      bar?.stop();
      await source.return?.();
    }
  })();
}

/** A map's options: a chunksize, or an object (`fields` names its keys in the error). */
export function mapOptions<O extends MapOptions>(options: number | O | undefined, fields = '{ chunksize, progress }'): O {
  if (options === undefined) return {} as O;
  if (typeof options === 'number') return { chunksize: options } as O;
  if (options === null || typeof options !== 'object') throw new TypeError(`the options must be a chunksize or an object ${fields}, got ${describeValue(options)}`);
  return options;
}

/** Structured clone keeps the message and stack of any error, the class of built-in ones; keep the name too. */
export function reviveError(error: unknown, name: string): unknown {
  if (error instanceof Error && error.name !== name) {
    Object.defineProperty(error, 'name', { value: name, configurable: true, writable: true, enumerable: false });
  }
  return error;
}

function settle<T>(result: AsyncResult<T>, options: AsyncOptions<T>, s: { ok: true; value: T } | { ok: false; error: unknown }, bar?: Progress | null): void {
  if (result.ready()) return;
  bar?.stop();
  result._settle(s);
  if (s.ok) options.callback?.(s.value);
  else options.errorCallback?.(s.error);
}

function checkChunksize(chunksize: unknown, what: string): void {
  if (!Number.isInteger(chunksize) || (chunksize as number) < 1) throw new RangeError(`${what}: chunksize must be a positive integer, got ${describeValue(chunksize)}`);
}

/** Python's `divmod(len, 4 * processes)`, rounded up. */
function defaultChunksize(length: number, processes: number): number {
  const chunksize = Math.floor(length / (processes * 4));
  return Math.max(1, length % (processes * 4) ? chunksize + 1 : chunksize);
}

function toArray(iterable: Iterable<unknown>, what: string): ArrayLike<unknown> {
  if (Array.isArray(iterable)) return iterable;
  // A typed array is cut into chunks as it is (spreading it would copy it element by element).
  if (ArrayBuffer.isView(iterable) && !(iterable instanceof DataView)) return iterable as unknown as ArrayLike<unknown>;
  if (iterable === null || typeof (iterable as any)?.[Symbol.iterator] !== 'function') {
    throw new TypeError(`${what}: iterable must be iterable (an array, a Set, a generator…), got ${describeValue(iterable)}`);
  }
  return [...iterable];
}

function iterate(iterable: Iterable<unknown> | AsyncIterable<unknown>, what: string): Iterator<unknown> | AsyncIterator<unknown> {
  const it = iterable as any;
  if (typeof it?.[Symbol.asyncIterator] === 'function') return it[Symbol.asyncIterator]();
  if (typeof it?.[Symbol.iterator] === 'function') return it[Symbol.iterator]();
  throw new TypeError(`${what}: iterable must be iterable or async iterable, got ${describeValue(iterable)}`);
}
