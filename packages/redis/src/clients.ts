// The connections a process opens to a server. Commands of every queue on one server share one
// connection (pipelined in order); a blocking wait and a subscription take their own. Sockets
// are unref'd: what keeps the process alive is work under way (`hold`), as with a local Queue.
import type Redis from 'ioredis';
import type { RedisOptions } from 'ioredis';
import type { RedisLocation } from './location';
import { withScripts, type Scripts } from './scripts';

/**
 * Retries while the server is away: ~10 s of reconnecting (a restart takes well under that),
 * then a command fails with MaxRetriesPerRequestError, which `failure()` words for the caller.
 */
const RETRY: RedisOptions = {
  retryStrategy: (times) => Math.min(50 * times, 500),
  maxRetriesPerRequest: 20,
};

/** A new client that never holds the process open by itself and reports its errors only through commands. */
export function open(location: RedisLocation, role: string, extra: RedisOptions = {}): Redis {
  const client = location.connect(role, { ...RETRY, ...extra });
  const unref = () => (client as any).stream?.unref?.();
  client.on('connect', unref);
  // Errors reach the calls that failed; the event would only print them a second time.
  client.on('error', () => {});
  return client;
}

interface Shared {
  client: Redis;
  scripts: Scripts;
  users: number;
}

const shared = new Map<RedisLocation, Shared>();

/** The one command connection of this process to `location`, until `release()`d by every user. */
export function acquire(location: RedisLocation): { client: Redis; scripts: Scripts; release(): void } {
  let s = shared.get(location);
  if (!s) {
    const client = open(location, 'commands');
    shared.set(location, (s = { client, scripts: withScripts(client), users: 0 }));
  }
  s.users++;
  const mine = s;
  let released = false;
  return {
    client: s.client,
    scripts: s.scripts,
    release() {
      if (released) return;
      released = true;
      if (--mine.users > 0) return;
      shared.delete(location);
      // QUIT after what is still queued on it.
      mine.client.quit().catch(() => mine.client.disconnect());
    },
  };
}

let holds = 0;
let keepAlive: NodeJS.Timeout | null = null;

/** Keeps the process alive until the returned function is called (a put being flushed, a get waiting). */
export function hold(): () => void {
  if (holds++ === 0) keepAlive = setInterval(() => {}, 2 ** 30);
  let done = false;
  return () => {
    if (done) return;
    done = true;
    if (--holds === 0 && keepAlive) {
      clearInterval(keepAlive);
      keepAlive = null;
    }
  };
}
