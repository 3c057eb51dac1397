// Values between machines, with the library's transfer protocol: plain data by its fast encoder,
// the rest by structured clone with reducers, so errors of its classes keep their class. What
// only means something on this machine (a Connection's socket, say) is refused at the call.
import { decode as decodeValue, dumps, encodePlain } from '@multiproc/core/internal';

const REMOTE = {
  kind: 'message' as const,
  duplicateForChild(): never {
    throw new TypeError('it holds an OS handle (a Connection, a socket, a lock…), which cannot cross machines; send plain data instead');
  },
};

const REBUILD = {
  kind: 'message' as const,
  detachHandle(): never {
    throw new TypeError('a message from Redis cannot carry an OS handle');
  },
};

/** The encoded value; may be a view of a scratch buffer, valid until the next call: copy it at once. */
export function encode(value: unknown, what: string): Buffer {
  return encodePlain(value) ?? dumps(value, REMOTE, what);
}

export function decode(buf: Buffer): unknown {
  return decodeValue(buf, REBUILD);
}
