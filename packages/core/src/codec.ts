import { decode, encodePlain } from './fast-clone';
import { dumps } from './reduction';
import { messageContext } from './route';

/**
 * How a value becomes a message and back, for the packages that carry messages between running
 * processes (a Queue's items; a Connection calls the fast path itself): the fast encoder for
 * plain data, the transfer protocol for the rest.
 * The result may be a view of a scratch buffer, valid until the next call: copy it at once.
 */
export function encodeMessage(obj: unknown, what: string): Buffer {
  return encodePlain(obj) ?? dumps(obj, messageContext, what);
}

/** The message in `data` from `start` on. */
export function decodeMessage(data: Buffer, start = 0): unknown {
  return decode(data, messageContext, start);
}
