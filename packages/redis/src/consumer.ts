// A process's gets from one queue. It reads ahead: one script call moves a batch from the front
// of the queue to the end of this consumer's held list (on the server) and into `ahead` (here);
// get() hands items from `ahead`. Handed items are acknowledged (dropped from held) in one call
// per event-loop turn, or with the next take. A consumer that dies leaves its held list behind,
// and a reaper puts it back at the front of the queue once its heartbeat lapses: nothing it had
// not handed is lost; what it handed in its last turn comes again (see docs/scale-out.md).
import { Empty, ProcessError } from '@multiproc/errors';
import { abortError } from '@multiproc/core/internal';
import type Redis from 'ioredis';
import { randomBytes } from 'node:crypto';
import { hold, open } from './clients';
import { startHeartbeat, type HeartbeatOptions } from './heartbeat';
import { consumerKeys, type ConsumerKeys, type QueueKeys } from './keys';
import type { RedisLocation } from './location';
import type { Scripts } from './scripts';

/** Items read ahead per take: about a millisecond of a fast consumer, few enough to share a queue. */
const BATCH = 256;
/** Longest single blocking wait: a waiting get takes (and so reaps) at least this often. */
const BLOCK_S = 1;

/** A closed queue's error: for-await ends quietly on it. */
export const CLOSED = Symbol('multiproc.redis.closed');

export interface ConsumerTarget {
  location: RedisLocation;
  keys: QueueKeys;
  scripts: Scripts;
  heartbeat: Required<HeartbeatOptions>;
  maxsize(): Promise<number>;
  /** The maxsize once known (0 before). */
  maxsizeNow(): number;
  failure(err: unknown, what: string): Error;
}

interface Getter {
  block: boolean;
  ms: number | null;
  signal: AbortSignal | undefined;
  settled: boolean;
  resolve(data: Buffer): void;
  reject(err: Error): void;
}

const live = new Set<Consumer>();
let exitHook = false;

export class Consumer {
  readonly id = randomBytes(8).toString('hex');
  #ahead: Buffer[] = [];
  #head = 0;
  /** Items handed to the program in all (the server counts how many of them it has acknowledged). */
  #handed = 0;
  #first = true;
  /** The number of the last take; a take whose answer was lost is asked again under its number. */
  #seq = 0;
  #resync = false;
  /** The last take emptied the queue: a blocking get waits for a producer's token before it takes again. */
  #drained = false;
  #taking: Promise<number> | null = null;
  #ackScheduled = false;
  #getters: Getter[] = [];
  #serving = false;
  #blocker: Redis | null = null;
  #stopBeat: (() => void) | null = null;
  #reaper: NodeJS.Timeout | null = null;
  #closed = false;
  readonly #k: ConsumerKeys;

  constructor(private readonly t: ConsumerTarget) {
    this.#k = consumerKeys(t.keys, this.id);
  }

  /** Items read ahead and not handed yet. */
  get waiting(): number {
    return this.#ahead.length - this.#head;
  }

  get(block: boolean, ms: number | null, signal: AbortSignal | undefined): Promise<Buffer> {
    if (signal?.aborted) return Promise.reject(abortError(signal));
    // The common case: an item is here and nobody is ahead of this call.
    if (this.#getters.length === 0 && this.waiting > 0) return Promise.resolve(this.#hand());
    return new Promise<Buffer>((resolve, reject) => {
      const release = hold();
      let timer: NodeJS.Timeout | null = null;
      const settle = (fn: () => void) => {
        if (g.settled) return;
        g.settled = true;
        if (timer) clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        release();
        const i = this.#getters.indexOf(g);
        if (i >= 0) this.#getters.splice(i, 1);
        fn();
      };
      const g: Getter = {
        block,
        ms,
        signal,
        settled: false,
        resolve: (data) => settle(() => resolve(data)),
        reject: (err) => settle(() => reject(err)),
      };
      const onAbort = () => g.reject(abortError(signal!));
      signal?.addEventListener('abort', onAbort, { once: true });
      if (block && ms !== null && ms > 0) timer = setTimeout(() => g.reject(new Empty('get(): the queue is empty')), ms);
      this.#getters.push(g);
      void this.#serve();
    });
  }

  #hand(): Buffer {
    const data = this.#ahead[this.#head];
    this.#ahead[this.#head++] = undefined!;
    if (this.#head === this.#ahead.length) {
      this.#ahead = [];
      this.#head = 0;
    }
    this.#handed++;
    this.#scheduleAck();
    // Unbounded: the next batch is on its way before this one runs out (bounded: read ahead would hold room).
    if (this.waiting < BATCH / 2 && !this.#taking && !this.#drained && !this.#closed && this.t.maxsizeNow() === 0) void this.#take().catch(() => {});
    return data;
  }

  /** Serves the waiting getters in order, one at a time. */
  async #serve(): Promise<void> {
    if (this.#serving) return;
    this.#serving = true;
    try {
      while (this.#getters.length > 0 && !this.#closed) {
        const g = this.#getters[0];
        try {
          await this.#serveOne(g);
        } catch (err) {
          g.reject(this.t.failure(err, 'get()'));
        }
      }
    } finally {
      this.#serving = false;
    }
  }

  async #serveOne(g: Getter): Promise<void> {
    while (!g.settled && !this.#closed) {
      if (this.waiting > 0) return g.resolve(this.#hand());
      if (this.#taking) {
        await this.#taking;
        continue;
      }
      const block = g.block && g.ms !== 0;
      if (this.#drained && block) {
        // Nothing was left at the last take: a take now would most likely find nothing either.
        await this.#waitForItems();
        this.#drained = false;
        continue;
      }
      // A take that finds the queue empty reaps: items of a dead consumer come back first.
      if ((await this.#take()) > 0) continue;
      if (!block) return g.reject(new Empty('get(): the queue is empty'));
      await this.#waitForItems();
      this.#drained = false;
    }
  }

  /** Waits (at most BLOCK_S) for a producer's token; the take that follows decides what there is. */
  async #waitForItems(): Promise<void> {
    this.#blocker ??= open(this.t.location, 'blocking');
    try {
      await this.#blocker.blpop(this.t.keys.signal, BLOCK_S);
    } catch (err) {
      if (!this.#closed) throw err;
    }
  }

  /** One take: acknowledges what was handed, reads the next batch ahead; resolves with how many items are here now. */
  #take(): Promise<number> {
    if (this.#taking) return this.#taking;
    const handed = this.#handed;
    const first = this.#first;
    const seq = this.#resync ? this.#seq : ++this.#seq;
    this.#resync = false;
    const release = hold();
    const taking = (async () => {
      const maxsize = await this.t.maxsize();
      const { keys, heartbeat } = this.t;
      const k = this.#k;
      const n = maxsize > 0 ? 1 : BATCH;
      const [code, items] = await this.t.scripts.take(
        keys.items, k.held, k.alive, keys.consumers, k.state, keys.signal,
        handed, n, Math.round(heartbeat.lapse * 1000), this.id, first ? '1' : '0', keys.events, maxsize, seq, keys.consumer,
      );
      if (this.#first) this.#started();
      if (code === 2) {
        // What we hold, from the server; less what was handed since this take was sent.
        this.#ahead = items.slice(this.#handed - handed);
        this.#head = 0;
        return this.waiting;
      }
      if (code === 1) {
        // Our heartbeat lapsed and what we held went back to the queue: our read-ahead is not ours any more.
        this.#ahead = [];
        this.#head = 0;
        this.#handed = 0;
        this.#sentAck = 0;
      }
      for (const item of items) this.#ahead.push(item);
      this.#drained = items.length < n;
      return this.waiting;
    })();
    this.#taking = taking;
    taking.then(
      () => {
        this.#taking = null;
        release();
        this.#scheduleAck();
      },
      () => {
        // Whether it ran is not known: the next take asks under the same number.
        this.#resync = true;
        this.#taking = null;
        release();
      },
    );
    return taking;
  }

  #started(): void {
    this.#first = false;
    this.#stopBeat = startHeartbeat(this.t.location, this.#k.alive, this.t.heartbeat);
    // Any client reaps: this one too, now and then, while it consumes.
    this.#reaper = setInterval(() => {
      this.t.scripts.reap(this.t.keys.items, this.t.keys.consumers, this.t.keys.signal, this.t.keys.consumer).catch(() => {});
    }, this.t.heartbeat.lapse * 1000);
    this.#reaper.unref();
    live.add(this);
    if (!exitHook) {
      exitHook = true;
      // The program is done: what was read ahead goes back now, not after a heartbeat lapse.
      process.on('beforeExit', () => {
        for (const c of live) void c.leave();
      });
    }
  }

  /** Once per event-loop turn, the items handed in it are acknowledged; never while a take is in flight (it carries them). */
  #scheduleAck(): void {
    if (this.#ackScheduled) return;
    this.#ackScheduled = true;
    const release = hold();
    setImmediate(() => {
      this.#ackScheduled = false;
      release();
      if (this.#taking || this.#first || this.#sentAck === this.#handed) return;
      this.#sentAck = this.#handed;
      this.t.scripts.ack(this.#k.held, this.#k.state, this.#handed).catch(() => {
        this.#sentAck = -1;
      });
    });
  }

  #sentAck = 0;

  /** Sends the acknowledgement now (qsize() does, so the server's count is current after it). */
  async acknowledge(): Promise<void> {
    while (this.#taking) await this.#taking.catch(() => {});
    if (this.#first || this.#sentAck === this.#handed) return;
    this.#sentAck = this.#handed;
    await this.t.scripts.ack(this.#k.held, this.#k.state, this.#handed);
  }

  /** close(): pending gets fail, the read-ahead goes back to the front of the queue, the heartbeat stops. */
  close(err: Error): Promise<void> {
    this.#closed = true;
    for (const g of [...this.#getters]) g.reject(err);
    this.#getters = [];
    this.#blocker?.disconnect();
    this.#blocker = null;
    return this.leave();
  }

  /** Gives back what this consumer holds and stops its heartbeat; a later get starts afresh. */
  async leave(): Promise<void> {
    if (this.#first) return;
    live.delete(this);
    const release = hold();
    try {
      while (this.#taking) await this.#taking.catch(() => {});
      const handed = this.#handed;
      this.#ahead = [];
      this.#head = 0;
      this.#handed = 0;
      this.#sentAck = 0;
      this.#first = true;
      const { keys } = this.t;
      const k = this.#k;
      await this.t.scripts.release(keys.items, k.held, k.alive, keys.consumers, k.state, keys.signal, handed, this.id);
    } finally {
      this.#stopBeat?.();
      this.#stopBeat = null;
      if (this.#reaper) clearInterval(this.#reaper);
      this.#reaper = null;
      release();
    }
  }
}

export function closedError(what: string): ProcessError {
  return Object.assign(new ProcessError(`${what}: the queue is closed`), { [CLOSED]: true });
}
