// RedisQueue and RedisJoinableQueue: the local Queue's API on a Redis (or Valkey) server, so
// processes on any machine that name the same queue share it. See docs/scale-out.md for what
// differs from a local queue.
import { reduce, type BlockingOptions, type JoinableQueueLike, type QueueLike, type Reduced, type WaitArgument } from '@multiproc/core';
import { abortError, atChildExit, blockingOptions, describeValue, refuseUnknownOptions, waitArgs } from '@multiproc/core/internal';
import { ProcessError } from '@multiproc/errors';
import type Redis from 'ioredis';
import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { acquire, hold } from './clients';
import { closedError, CLOSED, Consumer } from './consumer';
import { Events } from './events';
import { failure } from './failure';
import type { HeartbeatOptions } from './heartbeat';
import { queueKeys, type QueueKeys } from './keys';
import { redis, RedisLocation } from './location';
import { locate, remember } from './locations';
import { Producer } from './producer';
import type { Scripts } from './scripts';
import { decodeItem, encodeItem } from './transfer';

export const REBUILD_ID = '@multiproc/redis:RedisQueue';
type Kind = 'Queue' | 'JoinableQueue';

export interface RedisQueueOptions {
  /** The server: a URL (redis://, rediss://, unix://) or `redis(url, { prefix, authkey })`. */
  url: string | RedisLocation;
  /** The queue's name on the server; processes naming the same one share it. Default: a fresh unique name. */
  name?: string;
  /** Python's maxsize (0 or less: no limit). Default: the queue's own if it exists, else no limit. */
  maxsize?: number;
  /** How often this process tells the server its consumers live, and after how long without a word they count as dead (seconds). */
  heartbeat?: HeartbeatOptions;
}

/** The state a queue travels with: its server by display URL (no password), its name, kind and options. */
interface QueueState {
  server: string;
  prefix: string;
  name: string;
  kind: Kind;
  maxsize: number | null;
  heartbeat: Required<HeartbeatOptions>;
}

const NAME = /^[\w.:@/+-]{1,200}$/;

function checkHeartbeat(h: unknown): Required<HeartbeatOptions> {
  if (h === undefined) return { interval: 1, lapse: 10 };
  if (h === null || typeof h !== 'object') throw new TypeError(`RedisQueue: heartbeat must be { interval, lapse } in seconds, got ${describeValue(h)}`);
  const { interval = 1, lapse = 10, ...rest } = h as HeartbeatOptions;
  refuseUnknownOptions(rest, ['interval', 'lapse'], 'RedisQueue: heartbeat');
  for (const [k, v] of [['interval', interval], ['lapse', lapse]] as const) {
    if (typeof v !== 'number' || !(v > 0) || !Number.isFinite(v)) throw new RangeError(`RedisQueue: heartbeat.${k} must be a positive number of seconds, got ${describeValue(v)}`);
  }
  if (lapse < 2 * interval) throw new RangeError(`RedisQueue: heartbeat.lapse (${lapse} s) must be at least twice heartbeat.interval (${interval} s), or a live consumer could be taken for dead`);
  return { interval, lapse };
}

/** Queues with work that must be done before a child process exits, as Python joins its queues' feeder threads. */
const open = new Set<WeakRef<RedisQueue<any>>>();
atChildExit(() => Promise.all([...open].map((ref) => ref.deref()?.atExit())).then(() => {}));

/** Set while a queue that arrived from another process is rebuilt. */
let arriving: QueueState | null = null;

/** One object per queue per process: a queue that comes back is the one already here. */
const here = new Map<string, WeakRef<RedisQueue>>();
const keyOf = (s: QueueState) => JSON.stringify([s.server, s.prefix, s.name, s.kind]);

export function rebuildQueue(state: QueueState): RedisQueue {
  const known = here.get(keyOf(state))?.deref();
  if (known && !known.closed) return known;
  arriving = state;
  try {
    const q = state.kind === 'JoinableQueue' ? new RedisJoinableQueue(undefined as never) : new RedisQueue(undefined as never);
    here.set(keyOf(state), new WeakRef(q));
    return q;
  } finally {
    arriving = null;
  }
}

/**
 * Python's `multiprocessing.Queue` on a Redis server: `new RedisQueue({ url, name, maxsize })`.
 * Items travel with the library's transfer protocol; what lives only on this machine (a
 * Connection, shared memory, a lock, a local Queue) is refused at put().
 */
export class RedisQueue<T = unknown> implements QueueLike<T> {
  readonly name: string;
  readonly #location: RedisLocation;
  readonly #keys: QueueKeys;
  readonly #kind: Kind;
  readonly #heartbeat: Required<HeartbeatOptions>;
  #maxsize: number | null;
  #opened: Promise<number> | null = null;
  #isOpen = false;
  #conn: { scripts: Scripts; client: Redis; release(): void } | null = null;
  #producer: Producer;
  #consumer: Consumer | null = null;
  #events: Events | null = null;
  #closed = false;
  #closing: Promise<void> | null = null;
  #joinAtExit = true;
  #ref: WeakRef<RedisQueue<any>>;

  constructor(options: RedisQueueOptions) {
    const state = arriving;
    if (state) {
      this.#location = locate(state.server, state.prefix);
      this.name = state.name;
      this.#kind = state.kind;
      this.#maxsize = state.maxsize;
      this.#heartbeat = state.heartbeat;
    } else {
      const what = `new ${new.target.name}(options)`;
      if (options === null || typeof options !== 'object') throw new TypeError(`${what}: options must be an object { url, name, maxsize }, got ${describeValue(options)}`);
      const { url, name, maxsize, heartbeat, ...rest } = options;
      refuseUnknownOptions(rest, ['url', 'name', 'maxsize', 'heartbeat'], what);
      if (url instanceof RedisLocation) this.#location = url;
      else if (typeof url === 'string') this.#location = redis(url);
      else throw new TypeError(`${what}: url must be a Redis URL (redis://host:port, unix:///path) or redis(url), got ${describeValue(url)}`);
      if (name !== undefined && (typeof name !== 'string' || !NAME.test(name))) {
        throw new TypeError(`${what}: name must be 1 to 200 letters, digits or ._:@/+-, got ${describeValue(name)}`);
      }
      this.name = name ?? `anon-${randomBytes(12).toString('hex')}`;
      if (maxsize !== undefined && (typeof maxsize !== 'number' || !Number.isInteger(maxsize))) {
        throw new TypeError(`${what}: maxsize must be an integer (0 or less: no limit), got ${describeValue(maxsize)}`);
      }
      // A fresh name is a new queue: its maxsize is what was given (or none).
      this.#maxsize = maxsize === undefined ? (name === undefined ? 0 : null) : Math.max(0, maxsize);
      this.#kind = this instanceof RedisJoinableQueue ? 'JoinableQueue' : 'Queue';
      this.#heartbeat = checkHeartbeat(heartbeat);
    }
    remember(this.#location);
    open.add((this.#ref = new WeakRef(this)));
    this.#keys = queueKeys(this.#location.prefix, this.name);
    this.#producer = new Producer({
      push: (batch) => this.#scripts().push(this.#keys.items, this.#keys.unfinished, this.#keys.signal, this.#maxsize!, this.#kind === 'JoinableQueue' ? '1' : '0', ...batch),
      events: () => this.#eventsChannel(),
      failure: (err) => this.#failure(err, 'put(obj)'),
    });
  }

  /** The server, without its password. */
  get server(): string {
    return this.#location.display;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** The queue's maxsize (0: no limit), or null until this process has learned it from the server. */
  get maxsize(): number | null {
    return this.#maxsize;
  }

  // ---- the connection and the queue on the server

  #connection(): { scripts: Scripts; client: Redis } {
    return (this.#conn ??= acquire(this.#location));
  }

  #scripts(): Scripts {
    return this.#connection().scripts;
  }

  /** Joins the queue on the server (once): checks the name holds a queue of this kind; resolves with its maxsize. */
  #open(): Promise<number> {
    if (this.#opened) return this.#opened;
    // Sockets are unref'd: a call under way is what keeps the process alive.
    const release = hold();
    this.#opened = this.#scripts()
      .open(this.#keys.meta, this.#keys.items, this.#keys.unfinished, this.#kind, this.#maxsize === null ? '' : String(this.#maxsize))
      .then(
        (maxsize) => {
          this.#isOpen = true;
          return (this.#maxsize = maxsize);
        },
        (err) => {
          this.#opened = null;
          throw this.#failure(err, 'open');
        },
      )
      .finally(release);
    return this.#opened;
  }

  #eventsChannel(): Events {
    return (this.#events ??= new Events(this.#location, this.#keys.events));
  }

  #failure(err: unknown, what: string): Error {
    // Ours already (closed, worded by open(), an abort).
    if (err instanceof ProcessError || (err instanceof Error && err.name === 'AbortError')) return err;
    return failure(err, what, String(this), this.#location.display);
  }

  #check(what: string): void {
    if (this.#closed) throw closedError(what);
  }

  #consumerOf(): Consumer {
    return (this.#consumer ??= new Consumer({
      location: this.#location,
      keys: this.#keys,
      scripts: this.#scripts(),
      heartbeat: this.#heartbeat,
      maxsize: () => this.#open(),
      maxsizeNow: () => this.#maxsize ?? 0,
      failure: (err, what) => this.#failure(err, what),
    }));
  }

  // ---- the API

  /** Puts `obj` at the end; waits while a bounded queue is full, throws `Full` when it stays full. */
  put(obj: T, options?: BlockingOptions): Promise<void>;
  put(obj: T, block?: boolean, timeout?: number | null): Promise<void>;
  put(obj: T, block?: boolean | BlockingOptions, timeout?: number | null): Promise<void> {
    // Wrong arguments, a closed queue, a value that cannot travel: thrown at the call, as locally.
    this.#check('put(obj)');
    const o = blockingOptions(block, timeout, 'put(obj)');
    const data = encodeItem(obj, 'put(obj)');
    const earlier = this.#producer.takeError();
    if (earlier) return Promise.reject(earlier);
    if (o.signal?.aborted) return Promise.reject(abortError(o.signal));
    // The first put opens the queue (checks the name); the puts made meanwhile follow it in order.
    if (!this.#isOpen) return this.#open().then((maxsize) => this.#producer.put(data, maxsize, o.block, o.ms, o.signal));
    return this.#producer.put(data, this.#maxsize!, o.block, o.ms, o.signal);
  }

  putNowait(obj: T): Promise<void> {
    return this.put(obj, false);
  }

  /** Takes the next item; waits while the queue is empty, throws `Empty` when it stays empty. */
  get(options?: BlockingOptions): Promise<T>;
  get(block?: boolean, timeout?: number | null): Promise<T>;
  get(block?: boolean | BlockingOptions, timeout?: number | null): Promise<T> {
    this.#check('get()');
    const o = blockingOptions(block, timeout, 'get()');
    return this.#consumerOf().get(o.block, o.ms, o.signal).then((data) => this.#decode(data));
  }

  #decode(data: Buffer): T {
    try {
      return decodeItem(data) as T;
    } catch (err) {
      throw new ProcessError(`get(): an item of ${this} is not a message of this library (${(err as Error).message}); something else writes to ${this.#keys.items}`, { cause: err });
    }
  }

  getNowait(): Promise<T> {
    return this.get(false);
  }

  /** About how many items wait: on the server, plus those this process read ahead (others' read-ahead is not counted). */
  qsize(): Promise<number> {
    this.#check('qsize()');
    const release = hold();
    return this.#count().finally(release);
  }

  async #count(): Promise<number> {
    await this.#open();
    await this.#producer.flushed();
    const n = await Promise.all([this.#consumer?.acknowledge(), this.#connection().client.llen(this.#keys.items)]).then(
      ([, n]) => n,
      (err) => {
        throw this.#failure(err, 'qsize()');
      },
    );
    return n + (this.#consumer?.waiting ?? 0);
  }

  async empty(): Promise<boolean> {
    return (await this.qsize()) === 0;
  }

  async full(): Promise<boolean> {
    const n = await this.qsize();
    return this.#maxsize! > 0 && n >= this.#maxsize!;
  }

  /**
   * Python's `close()`: this process puts and gets no more. What it put is still delivered; what
   * it had read ahead and not handed goes back to the front of the queue, in order.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    open.delete(this.#ref);
    this.#producer.abandon(closedError('put(obj)'));
    const consumer = this.#consumer;
    this.#closing = (async () => {
      try {
        await Promise.all([this.#producer.flushed(), consumer?.close(closedError('get()'))]);
      } finally {
        this.#events?.close();
        this.#conn?.release();
      }
    })();
    this.#closing.catch(() => {});
  }

  /** Python's `join_thread()`: after close(), resolves once everything put here is on the server (rejects if some could not be). */
  joinThread(): Promise<void> {
    if (!this.#closed) throw new ProcessError('joinThread(): call close() first (as in Python, joinThread() waits for a closed queue to flush)');
    return this.#closing!.then(() => {
      const err = this.#producer.takeError();
      if (err) throw err;
    });
  }

  /** Python's `cancel_join_thread()`: this process will not wait at exit for its puts to reach the server. */
  cancelJoinThread(): void {
    this.#joinAtExit = false;
  }

  /** @internal A child's exit: its puts reach the server, its read-ahead goes back. */
  async atExit(): Promise<void> {
    open.delete(this.#ref);
    await Promise.all([this.#joinAtExit ? this.#producer.flushed() : undefined, this.#consumer?.leave()]);
  }

  /** Yields items until the queue is closed in this process. */
  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    for (;;) {
      try {
        yield await this.get();
      } catch (err) {
        if ((err as any)?.[CLOSED]) return;
        throw err;
      }
    }
  }

  /** Deletes the queue on the server (its items too): for queues made for one run. Closes it here. */
  async destroy(): Promise<void> {
    const k = this.#keys;
    const release = hold();
    this.close();
    await this.#closing?.catch(() => {});
    const conn = acquire(this.#location);
    try {
      const members = await conn.client.smembers(k.consumers);
      const consumerKeys = members.flatMap((id) => [`${k.consumer}held:${id}`, `${k.consumer}alive:${id}`, `${k.consumer}state:${id}`]);
      await conn.client.del(k.items, k.meta, k.unfinished, k.consumers, k.signal, ...consumerKeys);
    } finally {
      conn.release();
      release();
    }
  }

  /** @internal what RedisJoinableQueue adds to */
  protected get parts() {
    return {
      keys: this.#keys,
      client: () => this.#connection().client,
      scripts: () => this.#scripts(),
      open: () => this.#open(),
      events: () => this.#eventsChannel(),
      failure: (err: unknown, what: string) => this.#failure(err, what),
      check: (what: string) => this.#check(what),
      flushed: () => this.#producer.flushed(),
    };
  }

  [reduce](): Reduced {
    const state: QueueState = { server: this.#location.display, prefix: this.#location.prefix, name: this.name, kind: this.#kind, maxsize: this.#maxsize, heartbeat: this.#heartbeat };
    return [REBUILD_ID, state];
  }

  toString(): string {
    return `${this.constructor.name}(${JSON.stringify(this.name)} on ${this.#location.display})`;
  }

  [inspect.custom](): string {
    return `<${this}>`;
  }
}

/** Python's `JoinableQueue` on a Redis server: its unfinished count is on the server, so `join()` waits for every process's tasks. */
export class RedisJoinableQueue<T = unknown> extends RedisQueue<T> implements JoinableQueueLike<T> {
  #dones: { resolve(): void; reject(err: Error): void }[] = [];

  /** Marks one item got from the queue as done; rejects when called more times than items were put. */
  taskDone(): Promise<void> {
    try {
      this.parts.check('taskDone()');
    } catch (err) {
      return Promise.reject(err);
    }
    // The calls of one event-loop turn go in one script call.
    if (this.#dones.length === 0) setImmediate(() => void this.#flushDones());
    return new Promise((resolve, reject) => this.#dones.push({ resolve, reject }));
  }

  async #flushDones(): Promise<void> {
    const dones = this.#dones.splice(0);
    const p = this.parts;
    const release = hold();
    try {
      await p.open();
      const marked = await p.scripts().taskDone(p.keys.unfinished, dones.length, p.keys.events);
      dones.forEach((d, i) => (i < marked ? d.resolve() : d.reject(new ProcessError('taskDone() called too many times: more than items were put'))));
    } catch (err) {
      const e = p.failure(err, 'taskDone()');
      for (const d of dones) d.reject(e);
    } finally {
      release();
    }
  }

  /** Resolves (true) once every item put (by any process) has been marked done; false if `timeout` ran out first. */
  async join(options?: WaitArgument): Promise<boolean> {
    const p = this.parts;
    p.check('join()');
    const o = waitArgs(options, 'join()');
    const deadline = o.ms === null ? null : Date.now() + o.ms;
    const release = hold();
    const events = p.events();
    try {
      // What this process put counts: on the server first.
      await p.flushed();
      await events.subscribed();
      for (;;) {
        if (o.signal?.aborted) throw abortError(o.signal);
        const left = Number((await p.client().get(p.keys.unfinished)) ?? 0);
        if (left <= 0) return true;
        const ms = deadline === null ? null : deadline - Date.now();
        if (ms !== null && ms <= 0) return false;
        const wait = events.next(ms);
        const onAbort = () => wait.cancel();
        o.signal?.addEventListener('abort', onAbort, { once: true });
        await wait.promise;
        o.signal?.removeEventListener('abort', onAbort);
      }
    } catch (err) {
      throw p.failure(err, 'join()');
    } finally {
      release();
    }
  }
}
