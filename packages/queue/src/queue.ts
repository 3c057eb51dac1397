import { ProcessError } from '@multiproc/errors';
import { reduce, type BlockingOptions, type JoinableQueueLike, type QueueLike, type TransferContext, type Reduced } from '@multiproc/core';
import { blockingOptions, describeValue, logDebug, waitArgs } from '@multiproc/core/internal';
import { newQueue } from './broker-thread';
import { CLOSED, Participant } from './participant';
import type { QueueDescriptor } from './wire';

export const REBUILD_ID = '@multiproc/queue:Queue';
type Kind = 'Queue' | 'JoinableQueue' | 'SimpleQueue';

/** Set while a queue that arrived from another process is rebuilt. */
let arriving: QueueDescriptor | null = null;

/** One object per queue per process: a queue that comes back is the one already here. */
const here = new Map<string, WeakRef<QueueBase>>();
const keyOf = (d: QueueDescriptor) => `${d.dir}#${d.n}`;

export function rebuildQueue(state: QueueDescriptor & { kind: Kind }): QueueBase {
  const known = here.get(keyOf(state))?.deref();
  if (known && !known.closed) return known;
  const { kind, ...d } = state;
  arriving = d;
  try {
    return kind === 'SimpleQueue' ? new SimpleQueue() : kind === 'JoinableQueue' ? new JoinableQueue() : new Queue();
  } finally {
    arriving = null;
  }
}

function checkMaxsize(maxsize: unknown): number {
  if (typeof maxsize !== 'number' || !Number.isInteger(maxsize)) {
    throw new TypeError(`Queue(maxsize): maxsize must be an integer (0 or less: no limit), got ${describeValue(maxsize)}`);
  }
  return Math.max(0, maxsize);
}

/** What every kind of queue shares: its connection to the broker and how it travels. */
abstract class QueueBase {
  /** @internal */
  protected readonly p: Participant;

  protected constructor(maxsize: number, joinable: boolean) {
    const d = arriving ?? newQueue(maxsize, joinable);
    if (arriving) logDebug('queue %d arrived from another process', d.n);
    else logDebug('queue %d created (maxsize %d)', d.n, d.maxsize);
    this.p = new Participant(d);
    here.set(keyOf(d), new WeakRef(this));
  }

  /** Whether close() was called in this process. */
  get closed(): boolean {
    return this.p.closed;
  }

  /** Python's `empty()`: whether the queue holds no item (approximate when other processes are busy with it). */
  empty(): boolean {
    return this.p.qsize() === 0;
  }

  /**
   * Python's `close()`: this process puts and gets no more. Items it put are still delivered;
   * items the broker had sent ahead to this process go back to the queue for others.
   */
  close(): void {
    if (!this.p.closed) logDebug('queue %d closed', this.p.d.n);
    this.p.close();
  }

  /** Yields items until the queue is closed in this process. */
  async *[Symbol.asyncIterator](): AsyncIterator<unknown> {
    for (;;) {
      try {
        yield await this.p.get(true, null, undefined);
      } catch (err) {
        if ((err as any)?.[CLOSED]) return;
        throw err;
      }
    }
  }

  [reduce](_ctx: TransferContext): Reduced {
    const kind: Kind = this instanceof SimpleQueue ? 'SimpleQueue' : this instanceof JoinableQueue ? 'JoinableQueue' : 'Queue';
    return [REBUILD_ID, { ...this.p.d, kind }];
  }
}

/**
 * Python's `multiprocessing.Queue`: a multi-producer, multi-consumer FIFO shared by every
 * process it is passed to (in args, through a Connection, or inside another Queue).
 */
export class Queue<T = unknown> extends QueueBase implements QueueLike<T> {
  constructor(maxsize = 0) {
    super(arriving ? arriving.maxsize : checkMaxsize(maxsize), new.target === JoinableQueue);
  }

  /** Puts `obj` at the end; waits while a bounded queue is full, throws `Full` when it stays full. */
  put(obj: T, options?: BlockingOptions): Promise<void>;
  put(obj: T, block?: boolean, timeout?: number | null): Promise<void>;
  put(obj: T, block?: boolean | BlockingOptions, timeout?: number | null): Promise<void> {
    const o = blockingOptions(block, timeout, 'put(obj)');
    return this.p.put(obj, o.block, o.ms, o.signal);
  }

  putNowait(obj: T): Promise<void> {
    return this.put(obj, false);
  }

  /** Takes the next item; waits while the queue is empty, throws `Empty` when it stays empty. */
  get(options?: BlockingOptions): Promise<T>;
  get(block?: boolean, timeout?: number | null): Promise<T>;
  get(block?: boolean | BlockingOptions, timeout?: number | null): Promise<T> {
    const o = blockingOptions(block, timeout, 'get()');
    return this.p.get(o.block, o.ms, o.signal) as Promise<T>;
  }

  getNowait(): Promise<T> {
    return this.get(false);
  }

  /** About how many items the queue holds (as Python's, approximate while others use it). */
  qsize(): number {
    return this.p.qsize();
  }

  full(): boolean {
    return this.p.d.maxsize > 0 && this.p.qsize() >= this.p.d.maxsize;
  }

  /** Python's `join_thread()`: after close(), resolves once everything put here reached the queue. */
  joinThread(): Promise<void> {
    if (!this.p.closed) throw new ProcessError('joinThread(): call close() first (as in Python, joinThread() waits for a closed queue to flush)');
    logDebug('Queue.join_thread()');
    return this.p.joined();
  }

  /** Python's `cancel_join_thread()`: this process will not wait at exit for its puts to be flushed. */
  cancelJoinThread(): void {
    this.p.joinAtExit = false;
  }

  declare [Symbol.asyncIterator]: () => AsyncIterator<T>;
}

/** Python's `JoinableQueue`: a Queue that also counts unfinished tasks. */
export class JoinableQueue<T = unknown> extends Queue<T> implements JoinableQueueLike<T> {
  /** Marks one item got from the queue as done; rejects when called more times than items were put. */
  taskDone(): Promise<void> {
    return this.p.taskDone();
  }

  /** Resolves (true) once every item put has been marked done; false if `timeout` ran out first. */
  join(options?: number | null | { timeout?: number | null; signal?: AbortSignal }): Promise<boolean> {
    const o = waitArgs(options, 'join()');
    return this.p.join(o.ms, o.signal);
  }
}

/** Python's `SimpleQueue`: an unbounded queue with only get, put, empty and close. */
export class SimpleQueue<T = unknown> extends QueueBase {
  constructor() {
    super(0, false);
  }

  put(obj: T): Promise<void> {
    return this.p.put(obj, true, null, undefined);
  }

  get(options?: { signal?: AbortSignal }): Promise<T> {
    const o = waitArgs(options === undefined ? undefined : { ...options }, 'get()');
    if (o.ms !== null) throw new TypeError('get(): a SimpleQueue has no timeout (as in Python); use a Queue, or an AbortSignal');
    return this.p.get(true, null, o.signal) as Promise<T>;
  }

  declare [Symbol.asyncIterator]: () => AsyncIterator<T>;
}
