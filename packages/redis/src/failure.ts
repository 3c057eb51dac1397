// What the server said, in words that name the queue and say what to do. The password is not in
// any of them: ioredis's messages never hold it, and the server is named by its display URL.
import { AuthenticationError, ProcessError } from '@multiproc/errors';

export function failure(err: unknown, call: string, queue: string, server: string): Error {
  const what = call === 'open' ? queue : `${call}: ${queue}`;
  const message = err instanceof Error ? err.message : String(err);
  const kind = /(?:^|\s)(WRONGKIND|OTHERKIND|OTHERSIZE)\s+(\S+)(?:\s+(\S+))?/.exec(message);
  if (kind?.[1] === 'WRONGKIND') {
    return new ProcessError(`${what}: the key ${kind[2]} holds a ${kind[3]} that multiproc did not make; pick another name (or prefix) for the queue`, { cause: err });
  }
  if (kind?.[1] === 'OTHERKIND') return new ProcessError(`${what}: that name is taken by a ${kind[2]}; use Redis${kind[2]}, or another name`, { cause: err });
  if (kind?.[1] === 'OTHERSIZE') return new ProcessError(`${what}: the queue exists with maxsize ${kind[2]}; pass that, or no maxsize to take the queue's own`, { cause: err });
  if (message.includes('WRONGTYPE')) return new ProcessError(`${what}: one of its keys holds another type of value; pick another name (or prefix) for the queue`, { cause: err });
  if (/NOAUTH|WRONGPASS|invalid password/i.test(message)) {
    return new AuthenticationError(`${what}: the Redis server at ${server} refused the connection (${message.split('\n')[0]}); check the password in the URL`, { cause: err });
  }
  if (err instanceof Error && (err.name === 'MaxRetriesPerRequestError' || /Connection is closed|ECONNREFUSED|ENOENT|ECONNRESET/.test(message))) {
    return new ProcessError(`${what}: lost the Redis server at ${server} (${message}); the queue cannot go on until the server is back`, { cause: err });
  }
  return new ProcessError(`${what}: the Redis server at ${server} failed: ${message}`, { cause: err });
}
