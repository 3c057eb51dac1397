import { cpuCount, getContext, type AsyncOptions, type Context, type MapOptions, type ModuleReference, type PoolLike, type Process } from '@multiproc/core';
import { callerFile, checkTarget, describeTarget, describeValue, logDebug, refuseUnknownOptions, type TargetSpec } from '@multiproc/core/internal';
import { ProcessError } from '@multiproc/errors';
import { Pipe, type Connection } from '@multiproc/pipe';
import { isAbsolute, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { AsyncResult } from './async-result';
import { applyJob, imapInput, imapJob, mapInput, mapJob, mapOptions, MAX_DEPTH, MIN_DEPTH, reviveError, Unsettled, type Job, type JobChunk } from './jobs';
import { Slice, type Packed } from './pack';
import { progressBar } from './progress';
import type { FromWorker, ToWorker, WorkerInit } from './protocol';

export type Task = ((...args: any[]) => unknown) | ModuleReference;

export interface PoolOptions {
  /** Worker processes (default: cpuCount()). */
  processes?: number | null;
  /** Runs once in each worker before its first task (a function or module reference). */
  initializer?: Task | null;
  initargs?: unknown[];
  /** Chunks a worker runs before it is replaced by a fresh one (default: no limit). */
  maxtasksperchild?: number | null;
  /** The start method's context (default: getContext()). */
  context?: Context;
}

// Declared once in core, with the interfaces a remote pool implements too.
export type { MapOptions, AsyncOptions };

const RUN = 0;
const CLOSE = 1;
const TERMINATE = 2;
/**
 * Chunks sent ahead to a worker, so it never waits for the pool between two of them: about
 * PIPELINE_MS of its work, from MIN_DEPTH to MAX_DEPTH.
 */
const PIPELINE_MS = 2;

interface Chunk extends JobChunk {
  id: number;
  fn: number;
  star: boolean;
  items: Packed | Slice;
  kwargs: object | undefined;
}

interface Worker {
  proc: Process;
  conn: Connection;
  ready: boolean;
  /** Function ids this worker has been sent. */
  fns: Set<number>;
  inflight: Chunk[];
  /** Chunks sent to it in all: with maxtasksperchild, it retires after that many. */
  sent: number;
  reading: boolean;
  gone: boolean;
  closing: boolean;
  /** How many chunks it may hold, from how long its last one took. */
  depth: number;
  /** What its initializer threw, if it did. */
  initError?: unknown;
}

const WORKER_ENTRY = { module: pathToFileURL(join(__dirname, 'internal.mjs')).href, export: 'poolWorker' };

/**
 * Python's `multiprocessing.Pool`: worker processes that run tasks — functions (shipped by
 * source) or module references, as Process targets are — and send the results back.
 */
export class Pool implements PoolLike {
  #state = RUN;
  #ctx: Context;
  #size: number;
  #init: WorkerInit;
  #workers = new Set<Worker>();
  #queue: Chunk[] = [];
  #queueHead = 0;
  #chunkIds = 0;
  /** Task functions seen (weakly: a closure made per call is not kept), and every task by what workers load. */
  #fnIds = new WeakMap<Function, number>();
  #specIds = new Map<string, number>();
  #specs: TargetSpec[] = [];
  #startupFailure: Error | null = null;
  #allGone: (() => void)[] = [];
  #unsettled = new Unsettled<Chunk>();

  constructor(processes?: number | null | PoolOptions) {
    const o: PoolOptions = typeof processes === 'object' && processes !== null ? processes : { processes };
    const { processes: n = null, initializer = null, initargs = [], maxtasksperchild = null, context, ...rest } = o;
    refuseUnknownOptions(rest, ['processes', 'initializer', 'initargs', 'maxtasksperchild', 'context'], 'Pool');
    if (n !== null && (!Number.isInteger(n) || n < 1)) throw new RangeError(`Pool: processes must be a positive integer, got ${describeValue(n)}`);
    if (maxtasksperchild !== null && (!Number.isInteger(maxtasksperchild) || maxtasksperchild < 1)) {
      throw new RangeError(`Pool: maxtasksperchild must be a positive integer or null, got ${describeValue(maxtasksperchild)}`);
    }
    if (!Array.isArray(initargs)) throw new TypeError(`Pool: initargs must be an array, got ${describeValue(initargs)}`);
    if (initializer !== null) checkTarget(initializer, 'Pool: initializer', false);
    this.#ctx = context ?? getContext();
    this.#size = n ?? cpuCount();
    const file = callerFile(__filename);
    this.#init = { initializer: initializer === null ? null : describeTarget(initializer, file), initargs, maxtasks: maxtasksperchild };
    // Started together: their boots overlap.
    for (let i = 0; i < this.#size; i++) this.#spawn();
  }

  // ---- workers

  #spawn(): Worker {
    const [mine, theirs] = Pipe();
    const proc = new this.#ctx.Process({ target: WORKER_ENTRY, args: [theirs, this.#init], daemon: true, name: undefined });
    proc.start();
    theirs.close();
    const w: Worker = { proc, conn: mine, ready: false, fns: new Set(), inflight: [], sent: 0, reading: false, gone: false, closing: false, depth: MIN_DEPTH };
    this.#workers.add(w);
    logDebug('added worker');
    void this.#read(w);
    return w;
  }

  /** Reads from a worker while it owes the pool something (its 'ready', results): idle, nothing holds the process. */
  async #read(w: Worker): Promise<void> {
    if (w.reading) return;
    w.reading = true;
    try {
      while (!w.ready || w.inflight.length > 0) {
        const msg = (await w.conn.recv()) as FromWorker;
        if (msg[0] === 'ready') {
          w.ready = true;
          this.#pump();
          continue;
        }
        if (msg[0] === 'initFailed') {
          w.initError = reviveError(msg[1], msg[2]);
          continue; // its end comes next
        }
        const chunk = w.inflight.shift()!;
        const ms = msg[0] === 'ok' ? msg[3] : msg[4];
        w.depth = Math.min(MAX_DEPTH, Math.max(MIN_DEPTH, Math.round(PIPELINE_MS / Math.max(ms, 1e-3))));
        if (msg[0] === 'ok') this.#unsettled.done(chunk, msg[2]);
        else this.#unsettled.failed(chunk, reviveError(msg[2], msg[3]));
        if (this.#init.maxtasks !== null && w.sent >= this.#init.maxtasks && w.inflight.length === 0) this.#retire(w);
        // Out of work: the next job's tasks may be long, so it starts again from a short pipeline.
        if (w.inflight.length === 0 && !this.#pending()) w.depth = MIN_DEPTH;
        this.#pump();
      }
    } catch (err) {
      void this.#lost(w, err);
    } finally {
      w.reading = false;
    }
  }

  /** A worker ended on its own: done its maxtasksperchild, or died. */
  async #lost(w: Worker, cause: unknown): Promise<void> {
    if (w.gone) return;
    w.gone = true;
    await w.proc.join();
    this.#workers.delete(w);
    w.conn.close();
    const failed = w.inflight.splice(0);
    if (this.#state !== TERMINATE) {
      const err = new ProcessError(`a pool worker (pid ${w.proc.pid}) ended with exit code ${w.proc.exitCode} while running this task`, { cause });
      for (const chunk of failed) this.#unsettled.failed(chunk, err);
      if (!w.ready) {
        // It never started (its initializer failed, say): another would end the same way (Python starts new ones forever).
        this.#startupFailure = w.initError
          ? new ProcessError(`the pool's initializer failed in a worker: ${errorText(w.initError)}`, { cause: w.initError })
          : new ProcessError(`a pool worker (pid ${w.proc.pid}) ended with exit code ${w.proc.exitCode} before it was ready; see its error above`, { cause });
        this.#failQueue(this.#startupFailure);
      } else if (this.#state === RUN || this.#pending()) {
        const next = this.#spawn();
        logDebug('worker replaced: pid %d ended with exit code %d, pid %d takes its place', w.proc.pid, w.proc.exitCode, next.proc.pid);
      }
    }
    this.#pump();
    this.#checkAllGone();
  }

  #retire(w: Worker): void {
    w.closing = true;
    w.conn.close();
    void this.#lost(w, null);
  }

  #pending(): boolean {
    return this.#queueHead < this.#queue.length;
  }

  /** Sends queued chunks to workers with room, in order. */
  #pump(): void {
    while (this.#pending()) {
      let best: Worker | null = null;
      for (const w of this.#workers) {
        if (!w.ready || w.gone || w.closing || w.inflight.length >= w.depth) continue;
        if (w.proc.exitCode !== null) {
          // Died while idle: replace it rather than hand it a task.
          void this.#lost(w, null);
          continue;
        }
        if (this.#init.maxtasks !== null && w.sent >= this.#init.maxtasks) continue;
        if (!best || w.inflight.length < best.inflight.length) best = w;
      }
      if (!best) break;
      const chunk = this.#queue[this.#queueHead++];
      if (this.#queueHead > 1024 && this.#queueHead * 2 > this.#queue.length) {
        this.#queue = this.#queue.slice(this.#queueHead);
        this.#queueHead = 0;
      }
      this.#send(best, chunk);
    }
    if (this.#state === CLOSE && !this.#pending()) {
      // Closed and drained: each worker exits once it has sent its last result.
      for (const w of this.#workers) {
        if (!w.closing && w.inflight.length === 0 && w.ready) this.#retire(w);
      }
    }
  }

  #send(w: Worker, chunk: Chunk): void {
    try {
      // A worker that died meanwhile is noticed by its reader; the write's own failure says nothing more.
      if (!w.fns.has(chunk.fn)) {
        w.conn.send(['fn', chunk.fn, this.#specs[chunk.fn]] satisfies ToWorker).catch(ignore);
        w.fns.add(chunk.fn);
      }
      const items = chunk.items instanceof Slice ? chunk.items.cut() : chunk.items;
      w.conn.send(['task', chunk.id, chunk.fn, chunk.star, items, chunk.kwargs] satisfies ToWorker).catch(ignore);
    } catch (err) {
      // Items that cannot be cloned fail their own task, not the pool.
      this.#unsettled.failed(chunk, err);
      return;
    }
    w.inflight.push(chunk);
    w.sent++;
    void this.#read(w);
  }

  #failQueue(err: Error): void {
    const left = this.#queue.slice(this.#queueHead);
    this.#queue = [];
    this.#queueHead = 0;
    for (const chunk of left) this.#unsettled.failed(chunk, err);
  }

  /** Takes a job's chunks out of the queue, unsent and unsettled (its caller is gone). */
  #drop(job: Job): void {
    const left = this.#queue.slice(this.#queueHead);
    this.#queue = [];
    this.#queueHead = 0;
    for (const chunk of left) {
      if (chunk.job !== job) this.#queue.push(chunk);
      else this.#unsettled.settle(chunk);
    }
  }

  #checkAllGone(): void {
    if (this.#state !== RUN && this.#workers.size === 0) for (const f of this.#allGone.splice(0)) f();
  }

  // ---- tasks

  #check(what: string): void {
    if (this.#state !== RUN) throw new ProcessError(`${what}: the pool is ${this.#state === CLOSE ? 'closed' : 'terminated'} (Python: "Pool not running")`);
    if (this.#startupFailure) throw this.#startupFailure;
  }

  /** The id of a task, described and sent to workers once: the same source (a closure made anew for each call) is one id. */
  #fnId(fn: Task, what: string): number {
    checkTarget(fn, what, false);
    if (typeof fn === 'function') {
      let id = this.#fnIds.get(fn);
      if (id === undefined) this.#fnIds.set(fn, (id = this.#specId(describeTarget(fn, null))));
      return id;
    }
    // Only a relative path or a package name is resolved from the caller's file (finding it costs a stack trace).
    const relative = typeof fn.module === 'string' && !fn.module.startsWith('file:') && !isAbsolute(fn.module);
    return this.#specId(describeTarget(fn, relative ? callerFile(__filename) : null));
  }

  #specId(spec: TargetSpec): number {
    const key = JSON.stringify(spec);
    let id = this.#specIds.get(key);
    if (id === undefined) {
      id = this.#specs.length;
      this.#specs.push(spec);
      this.#specIds.set(key, id);
    }
    return id;
  }

  #submit(job: Job, fn: number, star: boolean, items: Packed | Slice, kwargs: object | undefined, index: number): void {
    this.#unsettled.add();
    this.#queue.push({ id: this.#chunkIds++, fn, star, items, kwargs, job, index, settled: false });
  }

  /** Python's `apply_async(func, args, kwds, callback, error_callback)`. */
  applyAsync<R>(fn: (...args: any[]) => R, args?: unknown[], kwds?: object | null, options?: AsyncOptions<Awaited<R>>): AsyncResult<Awaited<R>>;
  applyAsync<R = unknown>(fn: ModuleReference, args?: unknown[], kwds?: object | null, options?: AsyncOptions<R>): AsyncResult<R>;
  applyAsync<T>(fn: Task, args: unknown[] = [], kwds?: object | null, options: AsyncOptions<T> = {}): AsyncResult<T> {
    this.#check('applyAsync()');
    const id = this.#fnId(fn, 'applyAsync(): fn');
    if (!Array.isArray(args)) throw new TypeError(`applyAsync(fn, args): args must be an array, got ${describeValue(args)}`);
    const result = applyJob(options, (job) => this.#submit(job, id, true, [args], kwds ?? undefined, 0));
    this.#pump();
    return result;
  }

  /** Python's `apply(func, args, kwds)`: runs one call in a worker and resolves with its result. */
  apply<R>(fn: (...args: any[]) => R, args?: unknown[], kwds?: object | null): Promise<Awaited<R>>;
  apply<R = unknown>(fn: ModuleReference, args?: unknown[], kwds?: object | null): Promise<R>;
  apply(fn: Task, args: unknown[] = [], kwds?: object | null): Promise<unknown> {
    return this.applyAsync(fn as ModuleReference, args, kwds).get();
  }

  #mapAsync<T>(what: string, fn: Task, iterable: Iterable<unknown>, star: boolean, options: MapOptions & AsyncOptions<T[]>): AsyncResult<T[]> {
    this.#check(what);
    const id = this.#fnId(fn, `${what}: fn`);
    const input = mapInput(what, iterable, options, this.#size);
    const bar = progressBar(options.progress, input.items.length);
    const result = mapJob(input, star, options, bar, (job, slice, i) => this.#submit(job, id, star, slice, undefined, i));
    this.#pump();
    return result;
  }

  /** Python's `map(func, iterable, chunksize)`: results in input order. */
  map<R>(fn: (item: any) => R, iterable: Iterable<unknown>, options?: number | MapOptions): Promise<Awaited<R>[]>;
  map<R = unknown>(fn: ModuleReference, iterable: Iterable<unknown>, options?: number | MapOptions): Promise<R[]>;
  map<T>(fn: Task, iterable: Iterable<unknown>, options?: number | MapOptions): Promise<T[]> {
    return this.#mapAsync<T>('map()', fn, iterable, false, mapOptions(options)).get();
  }

  mapAsync<R>(fn: (item: any) => R, iterable: Iterable<unknown>, options?: number | (MapOptions & AsyncOptions<Awaited<R>[]>)): AsyncResult<Awaited<R>[]>;
  mapAsync<R = unknown>(fn: ModuleReference, iterable: Iterable<unknown>, options?: number | (MapOptions & AsyncOptions<R[]>)): AsyncResult<R[]>;
  mapAsync<T>(fn: Task, iterable: Iterable<unknown>, options?: number | (MapOptions & AsyncOptions<T[]>)): AsyncResult<T[]> {
    return this.#mapAsync<T>('mapAsync()', fn, iterable, false, mapOptions(options));
  }

  /** Python's `starmap(func, iterable)`: each item is the argument list of one call. */
  starmap<R>(fn: (...args: any[]) => R, iterable: Iterable<unknown[]>, options?: number | MapOptions): Promise<Awaited<R>[]>;
  starmap<R = unknown>(fn: ModuleReference, iterable: Iterable<unknown[]>, options?: number | MapOptions): Promise<R[]>;
  starmap<T>(fn: Task, iterable: Iterable<unknown[]>, options?: number | MapOptions): Promise<T[]> {
    return this.#mapAsync<T>('starmap()', fn, iterable, true, mapOptions(options)).get();
  }

  starmapAsync<R>(fn: (...args: any[]) => R, iterable: Iterable<unknown[]>, options?: number | (MapOptions & AsyncOptions<Awaited<R>[]>)): AsyncResult<Awaited<R>[]>;
  starmapAsync<R = unknown>(fn: ModuleReference, iterable: Iterable<unknown[]>, options?: number | (MapOptions & AsyncOptions<R[]>)): AsyncResult<R[]>;
  starmapAsync<T>(fn: Task, iterable: Iterable<unknown[]>, options?: number | (MapOptions & AsyncOptions<T[]>)): AsyncResult<T[]> {
    return this.#mapAsync<T>('starmapAsync()', fn, iterable, true, mapOptions(options));
  }

  /** Python's `imap`: results in input order, as they come; reads `iterable` only as fast as results are taken. */
  imap<R>(fn: (item: any) => R, iterable: Iterable<unknown> | AsyncIterable<unknown>, options?: number | MapOptions): AsyncIterableIterator<Awaited<R>>;
  imap<R = unknown>(fn: ModuleReference, iterable: Iterable<unknown> | AsyncIterable<unknown>, options?: number | MapOptions): AsyncIterableIterator<R>;
  imap<T>(fn: Task, iterable: Iterable<unknown> | AsyncIterable<unknown>, options?: number | MapOptions): AsyncIterableIterator<T> {
    return this.#imap<T>('imap()', fn, iterable, mapOptions(options), true);
  }

  /** Python's `imap_unordered`: results in the order they finish. */
  imapUnordered<R>(fn: (item: any) => R, iterable: Iterable<unknown> | AsyncIterable<unknown>, options?: number | MapOptions): AsyncIterableIterator<Awaited<R>>;
  imapUnordered<R = unknown>(fn: ModuleReference, iterable: Iterable<unknown> | AsyncIterable<unknown>, options?: number | MapOptions): AsyncIterableIterator<R>;
  imapUnordered<T>(fn: Task, iterable: Iterable<unknown> | AsyncIterable<unknown>, options?: number | MapOptions): AsyncIterableIterator<T> {
    return this.#imap<T>('imapUnordered()', fn, iterable, mapOptions(options), false);
  }

  #imap<T>(what: string, fn: Task, iterable: Iterable<unknown> | AsyncIterable<unknown>, options: MapOptions, ordered: boolean): AsyncIterableIterator<T> {
    this.#check(what);
    const id = this.#fnId(fn, `${what}: fn`);
    const input = imapInput(what, iterable, options);
    const bar = progressBar(options.progress, null);
    return imapJob<T>(input, this.#size, ordered, bar, {
      submit: (job, items, index) => {
        this.#check(what);
        this.#submit(job, id, false, items, undefined, index);
      },
      pump: () => this.#pump(),
      drop: (job) => this.#drop(job),
    });
  }

  // ---- life

  /** Python's `close()`: no new tasks; the workers exit once the queued ones are done. */
  close(): void {
    logDebug('closing pool');
    if (this.#state === RUN) this.#state = CLOSE;
    this.#pump();
    this.#checkAllGone();
  }

  /** Python's `terminate()`: stops the workers now; unfinished tasks fail. */
  terminate(): void {
    if (this.#state === TERMINATE) return;
    logDebug('terminating pool');
    this.#state = TERMINATE;
    const err = new ProcessError('the pool was terminated before this task finished');
    this.#failQueue(err);
    for (const w of this.#workers) {
      for (const chunk of w.inflight.splice(0)) this.#unsettled.failed(chunk, err);
      w.closing = true;
      if (w.proc.exitCode === null) w.proc.terminate();
      void this.#lost(w, null);
    }
    this.#checkAllGone();
  }

  /** Python's `join()`: after close() or terminate(), resolves once every worker has exited. */
  join(): Promise<void> {
    if (this.#state === RUN) throw new ProcessError('join(): the pool is still running; call close() or terminate() first (as in Python)');
    logDebug('joining pool');
    if (this.#workers.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#allGone.push(resolve));
  }

  /** `await using pool = new Pool()`: terminate() and join(), as Python's `with Pool() as pool:`. */
  async [Symbol.asyncDispose](): Promise<void> {
    this.terminate();
    await this.join();
  }

  /** The worker processes (Python's private `_pool`), for inspection. */
  get processes(): Process[] {
    return [...this.#workers].map((w) => w.proc);
  }
}

const ignore = () => {};

function errorText(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}
