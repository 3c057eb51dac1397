import { abortError, describe, waitOptions, type WaitOptions } from './timeout';

/**
 * What `wait()` can wait on: an object whose `[waitable]()` says whether it is ready and lets a
 * listener know when that may have changed. Process sentinels and Connections implement it.
 */
export const waitable = Symbol.for('multiproc.waitable');

export interface Readiness {
  ready(): boolean;
  /** Calls `wake` whenever readiness may have changed; returns the unsubscribe function. */
  subscribe(wake: () => void): () => void;
  /** Keeps the process alive while someone waits (an unref'd handle is ref'd); returns the release. */
  hold?(): () => void;
}

/**
 * Waits until `readiness` says ready, the time runs out, or the signal aborts. Resolves true when
 * ready, false on timeout; rejects with an AbortError on abort. While it waits, the thing waited
 * on keeps the process alive (`hold`), as a blocking wait does in Python.
 */
export function waitFor(readiness: Readiness, ms: number | null, signal: AbortSignal | undefined): Promise<boolean> {
  if (signal?.aborted) return Promise.reject(abortError(signal));
  if (readiness.ready()) return Promise.resolve(true);
  if (ms === 0) return Promise.resolve(false);
  return new Promise((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    const release = readiness.hold?.();
    const finish = (fn: () => void) => {
      unsubscribe();
      release?.();
      if (timer) clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      fn();
    };
    const onAbort = () => finish(() => reject(abortError(signal!)));
    const unsubscribe = readiness.subscribe(() => {
      if (readiness.ready()) finish(() => resolve(true));
    });
    if (ms !== null) timer = setTimeout(() => finish(() => resolve(false)), ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** A handle that can keep the event loop alive: a ChildProcess, a socket, the IPC channel. */
export interface KeepAlive {
  ref(): unknown;
  unref(): unknown;
}

export interface Waitable {
  [waitable](): Readiness;
}

/** Becomes ready once, for good: a process's end, or a parent's. */
export class Sentinel implements Waitable {
  #set = false;
  #wakers = new Set<() => void>();
  #holds = 0;
  #keepAlive: KeepAlive | undefined;
  #readiness: Readiness = {
    ready: () => this.#set,
    subscribe: (wake) => {
      this.#wakers.add(wake);
      return () => this.#wakers.delete(wake);
    },
    hold: () => {
      if (this.#holds++ === 0) this.#keepAlive?.ref();
      return () => {
        if (--this.#holds === 0) this.#keepAlive?.unref();
      };
    },
  };
  /** `keepAlive`: the handle whose end sets this sentinel, ref'd while someone waits on it. */
  constructor(
    readonly description: string,
    keepAlive?: KeepAlive,
  ) {
    this.#keepAlive = keepAlive;
  }
  get ready(): boolean {
    return this.#set;
  }
  /** Marks the sentinel ready and wakes its waiters (called by the start-method backend). */
  set(): void {
    if (this.#set) return;
    this.#set = true;
    for (const wake of [...this.#wakers]) wake();
  }
  [waitable](): Readiness {
    return this.#readiness;
  }
  toString(): string {
    return `<Sentinel ${this.description}${this.#set ? ' ready' : ''}>`;
  }
}

/**
 * Python's `multiprocessing.connection.wait`: resolves with the objects of `objects` that are
 * ready (a Connection with data or at EOF, a sentinel whose process ended) as soon as at least one
 * is, or with `[]` when `timeout` seconds pass first.
 */
export function wait<T extends Waitable>(objects: Iterable<T>, timeout?: number | null | WaitOptions): Promise<T[]> {
  if (objects === null || objects === undefined || typeof (objects as any)[Symbol.iterator] !== 'function') {
    return Promise.reject(new TypeError(`wait(objects, timeout): objects must be an array of Connections or Process sentinels, got ${describe(objects)}`));
  }
  let list: T[];
  let readiness: Readiness[];
  let ms: number | null;
  let signal: AbortSignal | undefined;
  try {
    list = [...objects];
    readiness = list.map((obj, i) => {
      if (obj === null || typeof obj !== 'object' || typeof (obj as any)[waitable] !== 'function') {
        throw new TypeError(
          `wait(objects, timeout): objects[${i}] is ${describe(obj)}, not something to wait on; pass Connections or Process sentinels (p.sentinel)`,
        );
      }
      return obj[waitable]();
    });
    ({ ms, signal } = waitOptions(timeout, 'wait(objects, timeout)'));
  } catch (err) {
    return Promise.reject(err);
  }
  const any: Readiness = {
    ready: () => readiness.some((r) => r.ready()),
    subscribe(wake) {
      const offs = readiness.map((r) => r.subscribe(wake));
      return () => offs.forEach((off) => off());
    },
    hold() {
      const releases = readiness.map((r) => r.hold?.());
      return () => releases.forEach((release) => release?.());
    },
  };
  return waitFor(any, ms, signal).then((ok) => (ok ? list.filter((_, i) => readiness[i].ready()) : []));
}
