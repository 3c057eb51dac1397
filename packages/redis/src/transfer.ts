// How an item becomes bytes on the server and back: the library's transfer protocol (plain data
// by the fast encoder, the rest by structured clone with reducers: errors keep their class, a
// RedisQueue travels by name), in a context that refuses what cannot reach another machine.
import type { RebuildContext, TransferContext } from '@multiproc/core';
import { decode, dumps, encodePlain } from '@multiproc/core/internal';

const remote: TransferContext & RebuildContext = {
  kind: 'message',
  remote: true,
  duplicateForChild() {
    throw new TypeError(
      'a Connection (or another OS handle) cannot be sent through Redis: it is a socket of this machine. ' +
        'Send plain data, or a RedisQueue to talk back.',
    );
  },
  detachHandle() {
    throw new TypeError('an OS handle arrived through Redis: the message was not made by this library');
  },
};

/** The bytes of `obj` (a copy: the fast encoder reuses its buffer). */
export function encodeItem(obj: unknown, what: string): Buffer {
  const plain = encodePlain(obj);
  return plain ? Buffer.from(plain) : dumps(obj, remote, what);
}

export function decodeItem(data: Buffer): unknown {
  return decode(data, remote, 0);
}
