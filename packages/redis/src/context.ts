// remoteContext(location): the queue (and pool) constructors of a context, on a Redis server. Code
// written against a context — `new ctx.Queue(maxsize)`, `new ctx.JoinableQueue()` — runs the same
// on `getContext()` and on `remoteContext(redis(url))`.
import { RedisLocation } from './location';
import { remember } from './locations';
import { RedisJoinableQueue, RedisQueue, type RedisQueueOptions } from './queue';
import { RemotePool, type RemotePoolOptions } from './remote-pool';

/** Options every queue of the context gets (a queue made by a context has a fresh unique name). */
export type RemoteContextOptions = Pick<RedisQueueOptions, 'heartbeat'>;

export interface RemoteContext {
  readonly location: RedisLocation;
  /** `new ctx.Queue(maxsize)`: a new queue with a fresh unique name (it can be passed to other processes). */
  readonly Queue: new <T = unknown>(maxsize?: number) => RedisQueue<T>;
  readonly JoinableQueue: new <T = unknown>(maxsize?: number) => RedisJoinableQueue<T>;
  /**
   * `new ctx.Pool(processes)` or `new ctx.Pool({ processes, … })`: a RemotePool on this server,
   * served by the workers started with `multiproc-redis-worker` (`processes` plans the chunks).
   */
  readonly Pool: new (processes?: number | null | Omit<RemotePoolOptions, 'location'>) => RemotePool;
}

const contexts = new WeakMap<RedisLocation, RemoteContext>();

/** The context of a Redis server: `remoteContext(redis('redis://host:6379'))`. */
export function remoteContext(location: RedisLocation, options: RemoteContextOptions = {}): RemoteContext {
  if (!(location instanceof RedisLocation)) {
    throw new TypeError(`remoteContext(location): pass redis(url), e.g. remoteContext(redis('redis://127.0.0.1:6379')), got ${typeof location === 'string' ? 'a string' : typeof location}`);
  }
  const plain = Object.keys(options).length === 0;
  const known = plain ? contexts.get(location) : undefined;
  if (known) return known;
  remember(location);
  const { heartbeat } = options;
  const ctx: RemoteContext = {
    location,
    Queue: class Queue<T> extends RedisQueue<T> {
      constructor(maxsize = 0) {
        super({ url: location, maxsize, heartbeat });
      }
    },
    JoinableQueue: class JoinableQueue<T> extends RedisJoinableQueue<T> {
      constructor(maxsize = 0) {
        super({ url: location, maxsize, heartbeat });
      }
    },
    Pool: class Pool extends RemotePool {
      constructor(processes?: number | null | Omit<RemotePoolOptions, 'location'>) {
        super(typeof processes === 'object' && processes !== null ? { ...processes, location } : { processes, location });
      }
    },
  };
  if (plain) contexts.set(location, ctx);
  return ctx;
}
