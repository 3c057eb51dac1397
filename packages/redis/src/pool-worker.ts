// The worker side of a RemotePool: a local Pool whose chunks come from Redis. It claims a few
// chunks ahead (into a list of its own, so a reaper can fail or retry them if it dies), runs each
// as one chunk of the local Pool, and acknowledges and answers finished ones in batches.
import { ProcessError } from '@multiproc/errors';
import { Pool } from '@multiproc/pool';
import { pack, type Packed } from '@multiproc/pool/internal';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { basename, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type Redis from 'ioredis';
import { open } from './clients';
import { startHeartbeat } from './heartbeat';
import { redis, type RedisLocation } from './location';
import { decodeTask, encodeResult, HEADER_BYTES, resultFrame, poolKeys, poolScripts, type PoolKeys, type PoolScripts, type ResultPayload, type TaskPayload } from './pool-protocol';
import { fileHash, shortHash } from './task-module';

export interface PoolWorkerOptions {
  /** The server's URL. */
  url: string;
  /** Default: env MULTIPROC_REDIS_AUTHKEY. */
  authkey?: Buffer | string;
  prefix?: string;
  /** The pool served (RemotePool's `name`). */
  name?: string;
  /** The task modules this worker runs. */
  modules: string[];
  processes: number;
  /** Seconds between heartbeats, and without one before the worker counts as dead. */
  heartbeat?: { interval?: number; lapse?: number };
  log?: (line: string) => void;
}

/** Seconds a wait for tasks blocks on the server at most (then lapsed workers are reaped). */
const POLL_S = 1;
/** About this much work claimed ahead (so a fast worker does not hoard a slow job's chunks). */
const AHEAD_MS = 5;
const MAX_DEPTH = 1024;
/**
 * Chunks claimed per process at least: two for the local pool's own pipeline, two more so the
 * next ones are here when those finish (a claim is a round trip to the server).
 */
const AHEAD_PER_PROCESS = 4;

/** The local Pool's words for a worker process that died under a chunk: the caller may retry it. */
const PROCESS_DIED = /pool worker \(pid \d+\) ended with exit code|pool was terminated/;

interface ServedModule {
  path: string;
  hash: string;
}

export class PoolWorker {
  readonly id = `${hostname().replace(/[^\w.-]/g, '-')}.${process.pid}.${randomBytes(3).toString('hex')}`;
  readonly location: RedisLocation;
  readonly name: string;
  #keys: PoolKeys;
  #key: Buffer;
  #modules = new Map<string, ServedModule>();
  /** The local pool's task for each (module, export) run so far. */
  #refs = new Map<string, { module: URL; export: string }>();
  #processes: number;
  #pool: Pool;
  #cmd: Redis;
  #blocker: Redis;
  #scripts: PoolScripts;
  #stopHeartbeat: (() => void) | null = null;
  #intervalMs: number;
  #lapseMs: number;
  #log: (line: string) => void;
  #running = 0;
  #depth: number;
  #slot: (() => void) | null = null;
  /** Headers of the tasks to acknowledge, and the results to send, by caller. */
  #finished: string[] = [];
  #results = new Map<string, Buffer[]>();
  #flushing: Promise<void> | null = null;
  #stopping = false;
  #stopped: Promise<void> | null = null;
  #loop: Promise<void> | null = null;
  #forgedLogged = false;
  #doneCount = 0;
  #doneSince = performance.now();

  constructor(options: PoolWorkerOptions) {
    this.location = redis(options.url, { authkey: options.authkey, prefix: options.prefix });
    if (!this.location.authkey) {
      throw new TypeError('the worker needs the authkey its callers sign tasks with: set the environment variable MULTIPROC_REDIS_AUTHKEY (the same as the callers\')');
    }
    this.#key = this.location.authkey;
    this.name = options.name ?? 'default';
    this.#keys = poolKeys(this.location, this.name);
    if (!Array.isArray(options.modules) || options.modules.length === 0) throw new TypeError('the worker needs at least one task module (--module ./dist/tasks.js)');
    for (const m of options.modules) {
      const path = resolve(m);
      let hash: string;
      try {
        hash = fileHash(path);
      } catch (err) {
        throw new TypeError(`cannot read the task module ${path}: ${(err as Error).message}`, { cause: err });
      }
      this.#modules.set(basename(path), { path, hash });
    }
    if (!Number.isInteger(options.processes) || options.processes < 1) throw new RangeError(`processes must be a positive integer, got ${options.processes}`);
    this.#processes = options.processes;
    this.#depth = AHEAD_PER_PROCESS * this.#processes;
    const interval = options.heartbeat?.interval ?? 2;
    const lapse = options.heartbeat?.lapse ?? 10;
    if (!(interval > 0) || !(lapse > interval)) throw new RangeError(`the heartbeat lapse (${lapse} s) must be longer than its interval (${interval} s), both positive`);
    this.#intervalMs = Math.round(interval * 1000);
    this.#lapseMs = Math.round(lapse * 1000);
    this.#log = options.log ?? ((line) => console.error(line));
    this.#pool = new Pool({ processes: this.#processes });
    // Retrying for ever: a worker waits out a server that is away, however long.
    this.#cmd = open(this.location, 'worker', { maxRetriesPerRequest: null });
    this.#blocker = open(this.location, 'worker-claims', { maxRetriesPerRequest: null });
    this.#scripts = poolScripts(this.#cmd);
    // Back after the server restarted (or failed over): registered again.
    this.#cmd.on('ready', () => void (this.#stopHeartbeat && this.#register().catch(() => {})));
  }

  /** What the reaper and RemotePool see of this worker. */
  get info(): string {
    return JSON.stringify({ host: hostname(), pid: process.pid, processes: this.#processes, modules: [...this.#modules.keys()] });
  }

  /** Registers this worker and starts serving; resolves once it is registered. */
  async start(): Promise<void> {
    await this.#register();
    // From a thread: a busy main thread (a long synchronous load, say) is not taken for a dead worker.
    this.#stopHeartbeat = startHeartbeat(this.location, this.#keys.alive(this.id), { interval: this.#intervalMs / 1000, lapse: this.#lapseMs / 1000 });
    this.#loop = this.#claimLoop();
  }

  /** Gives back what was claimed and not answered (to the front of the queue), and leaves the registry. */
  async #unregister(): Promise<void> {
    await this.#scripts.giveBack(this.#keys.tasks, this.#keys.base, this.id);
    await this.#cmd.multi().hdel(this.#keys.workers, this.id).del(this.#keys.alive(this.id)).exec();
  }

  /** The heartbeat key (made here; the thread only extends it) and the entry reapers look at. */
  #register(): Promise<unknown> {
    return this.#cmd.multi().set(this.#keys.alive(this.id), '1', 'PX', this.#lapseMs).hset(this.#keys.workers, this.id, this.info).exec();
  }

  describe(): string {
    const modules = [...this.#modules.values()].map((m) => `${basename(m.path)} (${shortHash(m.hash)})`).join(', ');
    return `worker ${this.id} serving pool '${this.name}' on ${this.location.display} with ${this.#processes} processes: ${modules}`;
  }

  async #claimLoop(): Promise<void> {
    const claimed = this.#keys.claimed(this.id);
    const claiming = this.#keys.claiming(this.id);
    while (!this.#stopping) {
      try {
        if (this.#running >= this.#depth) {
          await new Promise<void>((resolve) => (this.#slot = resolve));
          continue;
        }
        let frames: Buffer[] = await this.#scripts.claim(this.#keys.tasks, claimed, claiming, this.#depth - this.#running);
        if (frames.length === 0) {
          const one = await this.#blocker.blmoveBuffer(this.#keys.tasks, claiming, 'LEFT', 'RIGHT', POLL_S);
          if (!one) {
            await this.#scripts.reap(this.#keys.workers, this.#keys.callers, this.#keys.base);
            continue;
          }
          // Filed with the next ones (the script takes the claiming list first).
          frames = [one, ...(await this.#scripts.claim(this.#keys.tasks, claimed, claiming, this.#depth - this.#running - 1))];
        }
        for (const frame of frames) this.#run(frame);
      } catch (err) {
        if (this.#stopping) return;
        // The server is away: ioredis reconnects; try again in a moment rather than spin.
        this.#log(`multiproc worker ${this.id}: ${(err as Error).message}; retrying`);
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }

  #run(frame: Buffer): void {
    // Claimed, so counted until acknowledged, whatever it turns out to be.
    this.#running++;
    const header = frame.subarray(0, HEADER_BYTES).toString('latin1');
    let t: ReturnType<typeof decodeTask>;
    try {
      t = decodeTask(this.#key, frame);
    } catch {
      t = null;
    }
    if (!t) {
      if (!this.#forgedLogged) {
        this.#forgedLogged = true;
        this.#log(`multiproc worker ${this.id}: dropped a task that failed HMAC verification (a caller with another authkey, or a forged message); further ones are dropped silently`);
      }
      this.#finish(header, null, null);
      return;
    }
    const { caller, task } = t;
    const reply = (r: ResultPayload) => {
      let result: Buffer;
      try {
        result = encodeResult(r);
      } catch (err) {
        // A result that cannot be sent fails its chunk, not the worker.
        result = encodeResult({ chunk: task.chunk, attempt: task.attempt, ok: false, error: err, name: (err as Error).name, lost: false });
      }
      this.#finish(header, caller, result);
    };
    const fail = (error: unknown, lost: boolean) => reply({ chunk: task.chunk, attempt: task.attempt, ok: false, error, name: (error as Error)?.name ?? 'Error', lost });
    try {
      const path = this.#moduleFor(task);
      this.#dispatch(task, path).then(
        (value) => reply({ chunk: task.chunk, attempt: task.attempt, ok: true, value }),
        (err) => fail(err, err instanceof ProcessError && PROCESS_DIED.test(err.message)),
      );
    } catch (err) {
      fail(err, false);
    }
  }

  /** The file to run a task from: the served module of that name, if its content is the caller's. */
  #moduleFor(task: TaskPayload): string {
    const name = basename(task.task.path);
    const served = this.#modules.get(name) ?? (this.#modules.size === 1 ? [...this.#modules.values()][0] : undefined);
    if (!served) throw new ProcessError(`worker ${this.id} does not serve the module ${name} (it serves ${[...this.#modules.keys()].join(', ')}); start a worker with --module for it`);
    if (served.hash !== task.task.hash) {
      throw new ProcessError(
        `worker ${this.id} refuses module ${name}: its copy ${served.path} differs from the caller's ${task.task.path} ` +
          `(caller ${shortHash(task.task.hash)}, worker ${shortHash(served.hash)}); deploy the same build to the caller and the workers`,
      );
    }
    return served.path;
  }

  /** Runs the chunk as one chunk of the local pool. */
  #dispatch(task: TaskPayload, path: string): Promise<Packed> {
    const key = `${path}#${task.task.export}`;
    let ref = this.#refs.get(key);
    if (!ref) this.#refs.set(key, (ref = { module: pathToFileURL(path), export: task.task.export }));
    switch (task.mode) {
      case 'apply':
        return this.#pool.applyAsync(ref, task.items as unknown[], task.kwargs ?? null).get().then((v) => [v]);
      case 'star':
        return this.#pool.starmap(ref, task.items as unknown[][], task.items.length);
      default:
        // A packed chunk goes on packed: the local pool takes a typed array as it is.
        return this.#pool.map(ref, task.items as Iterable<unknown>, task.items.length).then(pack);
    }
  }

  #finish(header: string, caller: string | null, result: Buffer | null): void {
    this.#finished.push(header);
    if (caller !== null) {
      const list = this.#results.get(caller);
      if (list) list.push(result!);
      else this.#results.set(caller, [result!]);
    }
    this.#flushing ??= new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.#flush());
  }

  /** Acknowledges what finished since the last flush and answers each caller with one signed frame. */
  async #flush(): Promise<void> {
    while (this.#finished.length > 0) {
      const headers = this.#finished;
      const frames = new Map<string, Buffer>();
      for (const [caller, results] of this.#results) frames.set(caller, resultFrame(this.#key, caller, results));
      this.#finished = [];
      this.#results = new Map();
      try {
        await this.#scripts.finish(this.#keys.claimed(this.id), this.#keys.callers, this.#keys.base, headers, frames);
      } catch (err) {
        // Not acknowledged: the caller gets these chunks back from the reaper (or a server that restarted lost them).
        this.#log(`multiproc worker ${this.id}: could not send ${headers.length} results: ${(err as Error).message}`);
      }
      this.#settled(headers.length);
    }
    this.#flushing = null;
  }

  /** Chunks done: room for more, and the depth follows the pace (about AHEAD_MS of work ahead). */
  #settled(n: number): void {
    this.#running -= n;
    this.#doneCount += n;
    const now = performance.now();
    if (now - this.#doneSince >= 50) {
      const perMs = this.#doneCount / (now - this.#doneSince);
      this.#depth = Math.min(MAX_DEPTH, Math.max(AHEAD_PER_PROCESS * this.#processes, Math.ceil(perMs * AHEAD_MS)));
      this.#doneCount = 0;
      this.#doneSince = now;
    }
    this.#slot?.();
    this.#slot = null;
  }

  /**
   * Stops claiming and leaves once the claimed chunks are done; `graceful` false (at any time)
   * fails them now instead, as lost: their callers retry them if they asked to.
   */
  stop(graceful = true): Promise<void> {
    if (!graceful) this.#pool.terminate();
    return (this.#stopped ??= this.#shutdown());
  }

  async #shutdown(): Promise<void> {
    this.#stopping = true;
    // A server that is away would keep a worker that retries for ever from leaving: it leaves
    // without it (reapers fail or retry what it held once its heartbeat lapses).
    const away = new Promise<'away'>((resolve) => {
      if (this.#cmd.status !== 'ready') resolve('away');
      this.#cmd.once('close', () => resolve('away'));
    });
    this.#blocker.disconnect();
    this.#slot?.();
    await Promise.race([this.#loop, away]);
    this.#pool.close();
    await this.#pool.join();
    this.#stopHeartbeat?.();
    try {
      if ((await Promise.race([this.#flushing, away])) === 'away') throw new Error('the server is not reachable');
      if ((await Promise.race([this.#unregister(), away])) === 'away') throw new Error('the server is not reachable');
    } catch (err) {
      this.#log(`multiproc worker ${this.id}: left without unregistering: ${(err as Error).message}`);
    }
    this.#cmd.disconnect();
  }
}

