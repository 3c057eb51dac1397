// RemotePool: the local Pool's API over Redis. Tasks (module + export) go to a list that
// `multiproc-redis-worker` processes on any machine take from; each chunk's result comes back on
// this pool's own reply list. Every task and result is signed with the location's authkey.
import { cpuCount, type AsyncOptions, type MapOptions, type ModuleReference, type PoolLike, type PoolTask } from '@multiproc/core';
import { callerFile, checkTarget, describeValue, refuseUnknownOptions } from '@multiproc/core/internal';
import { AuthenticationError, ProcessError } from '@multiproc/errors';
import type { AsyncResult } from '@multiproc/pool';
import { applyJob, imapInput, imapJob, mapInput, mapJob, mapOptions as poolMapOptions, reviveError, Unsettled, type Job, type JobChunk, type Packed } from '@multiproc/pool/internal';
import { randomBytes } from 'node:crypto';
import type Redis from 'ioredis';
import { open } from './clients';
import { redis, RedisLocation } from './location';
import { decodeReply, encodeTask, poolKeys, poolScripts, type Mode, type PoolKeys, type PoolScripts, type TaskModule } from './pool-protocol';
import { taskModule } from './task-module';

export interface RemotePoolOptions {
  /** The Redis server: `redis(url, { authkey })`, or its URL (the authkey then comes from MULTIPROC_REDIS_AUTHKEY). */
  location: RedisLocation | string;
  /** Which workers serve it: those started with the same `--pool` (default 'default'). */
  name?: string;
  /** How many worker processes to plan chunks for (the default chunksize; default: cpuCount()). */
  processes?: number | null;
  /** Times a chunk is run again when the process or worker running it dies (default 0, at most 10). */
  retries?: number;
}

const RUN = 0;
const CLOSE = 1;
const TERMINATE = 2;
export const MAX_RETRIES = 10;
/** Seconds a wait for results blocks on the server at most; after each, lapsed workers are reaped. */
const POLL_S = 1;
/** Frames per RPUSH, and results taken per LPOP. */
const BATCH = 1000;

interface Chunk extends JobChunk {
  id: number;
  attempt: number;
  task: TaskModule;
  mode: Mode;
  items: Packed;
  kwargs: object | undefined;
}

/**
 * Python's `multiprocessing.Pool`, with its workers on other machines: the same methods,
 * semantics and errors as the local `Pool`, for tasks named by module and export.
 */
export class RemotePool implements PoolLike {
  readonly location: RedisLocation;
  readonly name: string;
  #keys: PoolKeys;
  #key: Buffer;
  #size: number;
  #retries: number;
  #state = RUN;
  /** 16 hex characters: the reply list's name and the first bytes of every task frame. */
  #id = randomBytes(8).toString('hex');
  #cmd: Redis;
  #reader: Redis;
  #scripts: PoolScripts;
  #chunkIds = 0;
  /** Sent, not settled: by chunk id. */
  #inflight = new Map<number, Chunk>();
  #unsettled = new Unsettled<Chunk>((chunk) => {
    this.#inflight.delete(chunk.id);
    if (this.#inflight.size === 0) this.#idle();
  });
  #outbox: Chunk[] = [];
  #flushing = false;
  #reading = false;
  #runId: string | null = null;
  #forgedLogged = false;
  #shutdownStarted = false;
  #closed: Promise<void>;
  #markClosed!: () => void;

  constructor(options: RemotePoolOptions) {
    if (options === null || typeof options !== 'object') throw new TypeError(`RemotePool: options must be an object { location, name?, processes?, retries? }, got ${describeValue(options)}`);
    const { location, name = 'default', processes = null, retries = 0, ...rest } = options;
    for (const local of ['initializer', 'initargs', 'maxtasksperchild', 'context']) {
      if (local in rest) throw new TypeError(`RemotePool: ${local} is an option of the local Pool only; a worker's setup goes in its task module's top level (it runs once per process)`);
    }
    refuseUnknownOptions(rest, ['location', 'name', 'processes', 'retries'], 'RemotePool');
    if (!(location instanceof RedisLocation) && typeof location !== 'string') {
      throw new TypeError(`RemotePool: location must be redis(url) or a URL string, got ${describeValue(location)}`);
    }
    if (typeof name !== 'string' || !/^[\w.-]+$/.test(name)) throw new TypeError(`RemotePool: name must be letters, digits, '_', '.' or '-', got ${describeValue(name)}`);
    if (processes !== null && (!Number.isInteger(processes) || processes < 1)) throw new RangeError(`RemotePool: processes must be a positive integer, got ${describeValue(processes)}`);
    if (!Number.isInteger(retries) || retries < 0 || retries > MAX_RETRIES) {
      throw new RangeError(`RemotePool: retries must be an integer from 0 to ${MAX_RETRIES}, got ${describeValue(retries)}`);
    }
    this.location = typeof location === 'string' ? redis(location) : location;
    if (!this.location.authkey) {
      throw new TypeError(
        `RemotePool: ${this.location.display} has no authkey, and tasks and results must be signed (a shared Redis is a way to inject tasks). ` +
          'Set the environment variable MULTIPROC_REDIS_AUTHKEY (the same on the workers), or pass redis(url, { authkey })',
      );
    }
    this.#key = this.location.authkey;
    this.name = name;
    this.#keys = poolKeys(this.location, name);
    this.#size = processes ?? cpuCount();
    this.#retries = retries;
    this.#cmd = this.#connect('pool');
    this.#reader = this.#connect('pool-results');
    this.#scripts = poolScripts(this.#cmd);
    this.#closed = new Promise((resolve) => (this.#markClosed = resolve));
    // The first command: workers answer only registered callers, so this goes before any task.
    this.#cmd.sadd(this.#keys.callers, this.#id).catch(() => {});
  }

  /** Unref'd: an idle pool does not keep the program alive (a busy one does, while chunks are unsettled). */
  #connect(role: string): Redis {
    const client = open(this.location, role);
    client.on('ready', () => void this.#onReady(client));
    return client;
  }

  /** Reconnected to a server that restarted (or failed over): it forgot the tasks, and this caller. */
  async #onReady(client: Redis): Promise<void> {
    if (client !== this.#cmd || this.#state === TERMINATE) return;
    try {
      const info = await client.info('server');
      const runId = /run_id:(\w+)/.exec(info)?.[1] ?? null;
      if (this.#runId !== null && runId !== this.#runId) {
        await client.sadd(this.#keys.callers, this.#id);
        this.#failAll(new ProcessError(`the Redis server at ${this.location.display} restarted or failed over (its run_id changed): the tasks it held are gone; this task did not finish`));
      }
      this.#runId = runId;
    } catch {
      // Lost again: the next 'ready' tries again.
    }
  }

  // ---- sending

  #submit(job: Job, task: TaskModule, mode: Mode, items: Packed, kwargs: object | undefined, index: number): void {
    const chunk: Chunk = { id: this.#chunkIds++, attempt: 0, task, mode, items, kwargs, job, index, settled: false };
    this.#inflight.set(chunk.id, chunk);
    this.#unsettled.add();
    this.#send(chunk);
  }

  /** Queues a chunk (again, on a retry) for the next flush: many frames go in one RPUSH. */
  #send(chunk: Chunk): void {
    this.#outbox.push(chunk);
    if (this.#flushing) return;
    this.#flushing = true;
    setImmediate(() => void this.#flush());
  }

  async #flush(): Promise<void> {
    while (this.#outbox.length > 0) {
      const chunks = this.#outbox.splice(0, BATCH);
      const frames: Buffer[] = [];
      const sent: Chunk[] = [];
      for (const chunk of chunks) {
        if (chunk.settled) continue;
        try {
          frames.push(encodeTask(this.#key, this.#id, { chunk: chunk.id, attempt: chunk.attempt, task: chunk.task, mode: chunk.mode, items: chunk.items, kwargs: chunk.kwargs }));
          sent.push(chunk);
        } catch (err) {
          // Items that cannot be sent fail their own task, not the pool.
          this.#unsettled.failed(chunk, err);
        }
      }
      if (frames.length === 0) continue;
      // The reader starts with the first frames: results come while the rest are sent.
      const pushed = this.#cmd.rpush(this.#keys.tasks, ...frames);
      void this.#read();
      try {
        await pushed;
      } catch (err) {
        for (const chunk of sent) this.#unsettled.failed(chunk, this.#connectionError(err));
      }
    }
    this.#flushing = false;
  }

  // ---- receiving

  /** Reads results while some are owed: an idle pool holds no blocked command. */
  async #read(): Promise<void> {
    if (this.#reading) return;
    this.#reading = true;
    const key = this.#keys.replies(this.#id);
    try {
      while (this.#inflight.size > 0 && this.#state !== TERMINATE) {
        let frames = await this.#reader.lpopBuffer(key, BATCH);
        if (!frames) {
          const got = await this.#reader.blpopBuffer(key, POLL_S);
          if (!got) {
            // Nothing for a while: a worker may have died holding our tasks.
            await this.#scripts.reap(this.#keys.workers, this.#keys.callers, this.#keys.base);
            continue;
          }
          frames = [got[1]];
        }
        for (const frame of frames) this.#onReply(frame);
      }
    } catch (err) {
      if (this.#state !== TERMINATE) this.#failAll(this.#connectionError(err));
    } finally {
      this.#reading = false;
      this.#idle();
    }
  }

  #onReply(frame: Buffer): void {
    let reply;
    try {
      reply = decodeReply(this.#key, this.#id, frame);
    } catch {
      reply = { kind: 'forged' as const };
    }
    if (reply.kind === 'forged') {
      if (!this.#forgedLogged) {
        this.#forgedLogged = true;
        process.emitWarning(`RemotePool ${this.name}: dropped a result that failed HMAC verification (a worker with another authkey?); further ones are dropped silently`, 'MultiprocWarning');
      }
      return;
    }
    if (reply.kind === 'lost') {
      const chunk = this.#inflight.get(reply.task.chunk);
      if (chunk?.attempt !== reply.task.attempt) return;
      const err = new ProcessError(`the worker ${reply.worker} stopped (its heartbeat lapsed) while running this task`);
      this.#lostChunk(chunk, err);
      return;
    }
    for (const r of reply.results) {
      const chunk = this.#inflight.get(r.chunk);
      // A result of an earlier attempt, or of a chunk settled otherwise: ignored.
      if (chunk?.attempt !== r.attempt) continue;
      if (r.ok) this.#unsettled.done(chunk, r.value);
      else if (r.lost) this.#lostChunk(chunk, reviveError(r.error, r.name));
      else this.#unsettled.failed(chunk, reviveError(r.error, r.name));
    }
  }

  /** The process running it died: run it again if retries were asked for, else fail it (as locally). */
  #lostChunk(chunk: Chunk, err: unknown): void {
    if (chunk.attempt < this.#retries && this.#state !== TERMINATE) {
      chunk.attempt++;
      this.#send(chunk);
    } else this.#unsettled.failed(chunk, err);
  }

  #connectionError(err: unknown): Error {
    if (/NOAUTH|WRONGPASS|invalid password/i.test((err as Error)?.message)) {
      return new AuthenticationError(`RemotePool '${this.name}': the Redis server at ${this.location.display} refused the connection; check the password in the URL`, { cause: err });
    }
    if (/WRONGTYPE/.test((err as Error)?.message)) {
      return new ProcessError(`the key ${this.#keys.tasks} on ${this.location.display} holds something else than the task list of RemotePool '${this.name}': choose another name`, { cause: err });
    }
    return new ProcessError(`lost the connection to Redis at ${this.location.display} (${(err as Error)?.message ?? err}); this task may not have finished`, { cause: err });
  }

  #failAll(err: Error): void {
    for (const chunk of [...this.#inflight.values()]) this.#unsettled.failed(chunk, err);
  }

  /** Nothing owed (the program may end): a closed pool disconnects. */
  #idle(): void {
    if (this.#inflight.size === 0 && this.#state !== RUN && !this.#reading) void this.#shutdown();
  }

  // ---- tasks

  #check(what: string): void {
    if (this.#state !== RUN) throw new ProcessError(`${what}: the pool is ${this.#state === CLOSE ? 'closed' : 'terminated'} (Python: "Pool not running")`);
  }

  #task(fn: PoolTask, what: string): TaskModule {
    checkTarget(fn, what, false);
    return taskModule(fn, callerFile(__filename), what);
  }

  applyAsync<R>(fn: (...args: any[]) => R, args?: unknown[], kwds?: object | null, options?: AsyncOptions<Awaited<R>>): AsyncResult<Awaited<R>>;
  applyAsync<R = unknown>(fn: ModuleReference, args?: unknown[], kwds?: object | null, options?: AsyncOptions<R>): AsyncResult<R>;
  applyAsync<T>(fn: PoolTask, args: unknown[] = [], kwds?: object | null, options: AsyncOptions<T> = {}): AsyncResult<T> {
    this.#check('applyAsync()');
    const task = this.#task(fn, 'applyAsync(): fn');
    if (!Array.isArray(args)) throw new TypeError(`applyAsync(fn, args): args must be an array, got ${describeValue(args)}`);
    return applyJob(options, (job) => this.#submit(job, task, 'apply', args, kwds ?? undefined, 0));
  }

  apply<R>(fn: (...args: any[]) => R, args?: unknown[], kwds?: object | null): Promise<Awaited<R>>;
  apply<R = unknown>(fn: ModuleReference, args?: unknown[], kwds?: object | null): Promise<R>;
  apply(fn: PoolTask, args: unknown[] = [], kwds?: object | null): Promise<unknown> {
    return this.applyAsync(fn as ModuleReference, args, kwds).get();
  }

  #mapAsync<T>(what: string, fn: PoolTask, iterable: Iterable<unknown>, mode: Mode, options: MapOptions & AsyncOptions<T[]>): AsyncResult<T[]> {
    this.#check(what);
    const task = this.#task(fn, `${what}: fn`);
    // No progress bar (the option is the local pool's); each chunk is cut at once, to be encoded on the next flush.
    return mapJob(mapInput(what, iterable, options, this.#size), mode === 'star', options, null, (job, slice, i) => this.#submit(job, task, mode, slice.cut(), undefined, i));
  }

  map<R>(fn: (item: any) => R, iterable: Iterable<unknown>, options?: number | MapOptions): Promise<Awaited<R>[]>;
  map<R = unknown>(fn: ModuleReference, iterable: Iterable<unknown>, options?: number | MapOptions): Promise<R[]>;
  map<T>(fn: PoolTask, iterable: Iterable<unknown>, options?: number | MapOptions): Promise<T[]> {
    return this.#mapAsync<T>('map()', fn, iterable, 'map', mapOptions(options)).get();
  }

  mapAsync<R>(fn: (item: any) => R, iterable: Iterable<unknown>, options?: number | (MapOptions & AsyncOptions<Awaited<R>[]>)): AsyncResult<Awaited<R>[]>;
  mapAsync<R = unknown>(fn: ModuleReference, iterable: Iterable<unknown>, options?: number | (MapOptions & AsyncOptions<R[]>)): AsyncResult<R[]>;
  mapAsync<T>(fn: PoolTask, iterable: Iterable<unknown>, options?: number | (MapOptions & AsyncOptions<T[]>)): AsyncResult<T[]> {
    return this.#mapAsync<T>('mapAsync()', fn, iterable, 'map', mapOptions(options));
  }

  starmap<R>(fn: (...args: any[]) => R, iterable: Iterable<unknown[]>, options?: number | MapOptions): Promise<Awaited<R>[]>;
  starmap<R = unknown>(fn: ModuleReference, iterable: Iterable<unknown[]>, options?: number | MapOptions): Promise<R[]>;
  starmap<T>(fn: PoolTask, iterable: Iterable<unknown[]>, options?: number | MapOptions): Promise<T[]> {
    return this.#mapAsync<T>('starmap()', fn, iterable, 'star', mapOptions(options)).get();
  }

  starmapAsync<R>(fn: (...args: any[]) => R, iterable: Iterable<unknown[]>, options?: number | (MapOptions & AsyncOptions<Awaited<R>[]>)): AsyncResult<Awaited<R>[]>;
  starmapAsync<R = unknown>(fn: ModuleReference, iterable: Iterable<unknown[]>, options?: number | (MapOptions & AsyncOptions<R[]>)): AsyncResult<R[]>;
  starmapAsync<T>(fn: PoolTask, iterable: Iterable<unknown[]>, options?: number | (MapOptions & AsyncOptions<T[]>)): AsyncResult<T[]> {
    return this.#mapAsync<T>('starmapAsync()', fn, iterable, 'star', mapOptions(options));
  }

  imap<R>(fn: (item: any) => R, iterable: Iterable<unknown> | AsyncIterable<unknown>, options?: number | MapOptions): AsyncIterableIterator<Awaited<R>>;
  imap<R = unknown>(fn: ModuleReference, iterable: Iterable<unknown> | AsyncIterable<unknown>, options?: number | MapOptions): AsyncIterableIterator<R>;
  imap<T>(fn: PoolTask, iterable: Iterable<unknown> | AsyncIterable<unknown>, options?: number | MapOptions): AsyncIterableIterator<T> {
    return this.#imap<T>('imap()', fn, iterable, mapOptions(options), true);
  }

  imapUnordered<R>(fn: (item: any) => R, iterable: Iterable<unknown> | AsyncIterable<unknown>, options?: number | MapOptions): AsyncIterableIterator<Awaited<R>>;
  imapUnordered<R = unknown>(fn: ModuleReference, iterable: Iterable<unknown> | AsyncIterable<unknown>, options?: number | MapOptions): AsyncIterableIterator<R>;
  imapUnordered<T>(fn: PoolTask, iterable: Iterable<unknown> | AsyncIterable<unknown>, options?: number | MapOptions): AsyncIterableIterator<T> {
    return this.#imap<T>('imapUnordered()', fn, iterable, mapOptions(options), false);
  }

  #imap<T>(what: string, fn: PoolTask, iterable: Iterable<unknown> | AsyncIterable<unknown>, options: MapOptions, ordered: boolean): AsyncIterableIterator<T> {
    this.#check(what);
    const task = this.#task(fn, `${what}: fn`);
    // Sent as they are submitted (on the next flush): nothing to pump.
    return imapJob<T>(imapInput(what, iterable, options), this.#size, ordered, null, {
      submit: (job, items, index) => {
        this.#check(what);
        this.#submit(job, task, 'map', items, undefined, index);
      },
      drop: (job) => {
        for (const chunk of this.#outbox) if (chunk.job === job) this.#unsettled.settle(chunk);
      },
    });
  }

  // ---- life

  /** Python's `close()`: no new tasks; the pool disconnects once the sent ones are done (the workers serve on). */
  close(): void {
    if (this.#state === RUN) this.#state = CLOSE;
    this.#idle();
  }

  /** Python's `terminate()`: unfinished tasks fail now; those no worker has taken yet are taken back. */
  terminate(): void {
    if (this.#state === TERMINATE) return;
    this.#state = TERMINATE;
    this.#failAll(new ProcessError('the pool was terminated before this task finished'));
    this.#outbox = [];
    void this.#shutdown();
  }

  /** Python's `join()`: after close() or terminate(), resolves once this pool is done with Redis. */
  join(): Promise<void> {
    if (this.#state === RUN) throw new ProcessError('join(): the pool is still running; call close() or terminate() first (as in Python)');
    return this.#closed;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.terminate();
    await this.join();
  }

  /** Takes this caller off the server (its registration, its reply list, unclaimed tasks) and disconnects. */
  async #shutdown(): Promise<void> {
    if (this.#shutdownStarted) return;
    this.#shutdownStarted = true;
    this.#reader.disconnect();
    if (this.#cmd.status === 'ready') {
      try {
        await this.#cmd.srem(this.#keys.callers, this.#id);
        if (this.#state === TERMINATE) await this.#scripts.drop(this.#keys.tasks, this.#id);
        await this.#cmd.del(this.#keys.replies(this.#id));
      } catch {
        // The server went away: nothing of ours to take off.
      }
    }
    this.#cmd.disconnect();
    this.#markClosed();
  }

  toString(): string {
    return `RemotePool(${this.name} on ${this.location.display})`;
  }
}

/** The local pool's, but for the error's words: a RemotePool draws no progress bar. */
function mapOptions<O extends MapOptions>(options: number | O | undefined): O {
  return poolMapOptions(options, '{ chunksize }');
}
