import type { ModuleReference } from './target-check';

// The shapes code can rely on whether its queues and pools are local (@multiproc/queue,
// @multiproc/pool) or on a server (@multiproc/redis): both implement these, so code that takes a
// context (`getContext()` or `remoteContext(redis(url))`) runs unchanged on either. What needs the
// network on the remote side (qsize, empty, full) may answer with a Promise: `await` it.

/** `put`/`get` options: Python's `(block, timeout)`, plus an AbortSignal. */
export interface BlockingOptions {
  block?: boolean;
  /** Seconds; null or absent: no limit. */
  timeout?: number | null;
  signal?: AbortSignal;
}

/** A timeout in seconds, or `{ timeout, signal }`. */
export type WaitArgument = number | null | { timeout?: number | null; signal?: AbortSignal };

/** Python's `multiprocessing.Queue`. */
export interface QueueLike<T = unknown> {
  /** Puts `obj` at the end; waits while a bounded queue is full, throws `Full` when it stays full. */
  put(obj: T, options?: BlockingOptions): Promise<void>;
  put(obj: T, block?: boolean, timeout?: number | null): Promise<void>;
  putNowait(obj: T): Promise<void>;
  /** Takes the next item; waits while the queue is empty, throws `Empty` when it stays empty. */
  get(options?: BlockingOptions): Promise<T>;
  get(block?: boolean, timeout?: number | null): Promise<T>;
  getNowait(): Promise<T>;
  /** About how many items the queue holds (a Promise when it takes a round trip). */
  qsize(): number | Promise<number>;
  empty(): boolean | Promise<boolean>;
  full(): boolean | Promise<boolean>;
  /** This process puts and gets no more; what it put is still delivered. */
  close(): void;
  readonly closed: boolean;
  /** After close(), resolves once everything put here reached the queue. */
  joinThread(): Promise<void>;
  /** This process will not wait at exit for its puts to be flushed. */
  cancelJoinThread(): void;
  [Symbol.asyncIterator](): AsyncIterator<T>;
}

/** Python's `JoinableQueue`: a queue that also counts unfinished tasks. */
export interface JoinableQueueLike<T = unknown> extends QueueLike<T> {
  taskDone(): Promise<void>;
  /** Resolves true once every item put has been marked done; false if `timeout` ran out first. */
  join(options?: WaitArgument): Promise<boolean>;
}

/** A task: a function (shipped by source, local pools only) or a module reference. */
export type PoolTask = ((...args: any[]) => unknown) | ModuleReference;

export interface MapOptions {
  /** Items per message to a worker (default for map: Python's, about len / (4 × processes); for imap: 1). */
  chunksize?: number;
  /** Shows a progress bar on the terminal (stderr), with this label if a string. */
  progress?: boolean | string;
}

export interface AsyncOptions<T> {
  callback?: (result: T) => void;
  errorCallback?: (error: unknown) => void;
}

/** Python's `AsyncResult`. */
export interface AsyncResultLike<T = unknown> {
  ready(): boolean;
  successful(): boolean;
  wait(options?: WaitArgument): Promise<void>;
  get(options?: WaitArgument): Promise<T>;
}

/** Python's `multiprocessing.Pool`. */
export interface PoolLike {
  apply<R>(fn: (...args: any[]) => R, args?: unknown[], kwds?: object | null): Promise<Awaited<R>>;
  apply<R = unknown>(fn: ModuleReference, args?: unknown[], kwds?: object | null): Promise<R>;
  applyAsync<R>(fn: (...args: any[]) => R, args?: unknown[], kwds?: object | null, options?: AsyncOptions<Awaited<R>>): AsyncResultLike<Awaited<R>>;
  applyAsync<R = unknown>(fn: ModuleReference, args?: unknown[], kwds?: object | null, options?: AsyncOptions<R>): AsyncResultLike<R>;
  map<R>(fn: (item: any) => R, iterable: Iterable<unknown>, options?: number | MapOptions): Promise<Awaited<R>[]>;
  map<R = unknown>(fn: ModuleReference, iterable: Iterable<unknown>, options?: number | MapOptions): Promise<R[]>;
  mapAsync<R>(fn: (item: any) => R, iterable: Iterable<unknown>, options?: number | (MapOptions & AsyncOptions<Awaited<R>[]>)): AsyncResultLike<Awaited<R>[]>;
  mapAsync<R = unknown>(fn: ModuleReference, iterable: Iterable<unknown>, options?: number | (MapOptions & AsyncOptions<R[]>)): AsyncResultLike<R[]>;
  starmap<R>(fn: (...args: any[]) => R, iterable: Iterable<unknown[]>, options?: number | MapOptions): Promise<Awaited<R>[]>;
  starmap<R = unknown>(fn: ModuleReference, iterable: Iterable<unknown[]>, options?: number | MapOptions): Promise<R[]>;
  starmapAsync<R>(fn: (...args: any[]) => R, iterable: Iterable<unknown[]>, options?: number | (MapOptions & AsyncOptions<Awaited<R>[]>)): AsyncResultLike<Awaited<R>[]>;
  starmapAsync<R = unknown>(fn: ModuleReference, iterable: Iterable<unknown[]>, options?: number | (MapOptions & AsyncOptions<R[]>)): AsyncResultLike<R[]>;
  imap<R>(fn: (item: any) => R, iterable: Iterable<unknown> | AsyncIterable<unknown>, options?: number | MapOptions): AsyncIterableIterator<Awaited<R>>;
  imap<R = unknown>(fn: ModuleReference, iterable: Iterable<unknown> | AsyncIterable<unknown>, options?: number | MapOptions): AsyncIterableIterator<R>;
  imapUnordered<R>(fn: (item: any) => R, iterable: Iterable<unknown> | AsyncIterable<unknown>, options?: number | MapOptions): AsyncIterableIterator<Awaited<R>>;
  imapUnordered<R = unknown>(fn: ModuleReference, iterable: Iterable<unknown> | AsyncIterable<unknown>, options?: number | MapOptions): AsyncIterableIterator<R>;
  /** No new tasks; the workers exit once the queued ones are done. */
  close(): void;
  /** Stops the workers now; unfinished tasks fail. */
  terminate(): void;
  /** After close() or terminate(), resolves once every worker has exited. */
  join(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** What code that takes a context uses to make queues: `getContext()` and `remoteContext(redis(url))` both give it. */
export interface QueueContextLike {
  Queue: new <T = unknown>(maxsize?: number) => QueueLike<T>;
  JoinableQueue: new <T = unknown>(maxsize?: number) => JoinableQueueLike<T>;
}

/** A context with pools too. */
export interface ContextLike extends QueueContextLike {
  Pool: new (processes?: number | null | { processes?: number | null }) => PoolLike;
}
