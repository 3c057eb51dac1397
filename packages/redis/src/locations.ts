// Which server a queue that arrived from another process is on. Its password did not travel with
// it (a reduced object never holds one), so the receiving process finds it: from a location it
// made itself for that server, from MULTIPROC_REDIS_URL, or the URL needs none.
import { ProcessError } from '@multiproc/errors';
import { hide, redis, type RedisLocation } from './location';

const known = new Map<string, RedisLocation>();
const keyOf = (display: string, prefix: string) => `${prefix}\0${display}`;

/** Remembers a location this process uses, for queues that arrive naming its server. */
export function remember(location: RedisLocation): void {
  const key = keyOf(location.display, location.prefix);
  if (!known.has(key)) known.set(key, location);
}

/** The location for a server named by its display URL; throws, saying what to do, when its password is not here. */
export function locate(display: string, prefix: string): RedisLocation {
  const key = keyOf(display, prefix);
  let location = known.get(key);
  if (location) return location;
  const env = process.env.MULTIPROC_REDIS_URL;
  if (env && hide(env) === display) location = redis(env, { prefix });
  else if (!display.includes('***')) location = redis(display, { prefix });
  else {
    throw new ProcessError(
      `a queue on ${display} arrived, but this process does not have that server's password (passwords never travel with a queue): ` +
        `set MULTIPROC_REDIS_URL to the full URL in its environment, or make a queue or remoteContext with redis(url) here before the queue arrives`,
    );
  }
  known.set(key, location);
  return location;
}
