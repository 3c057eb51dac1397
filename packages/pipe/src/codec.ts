import { dumps } from '@multiproc/core/internal';
import { messageContext } from './connection';
import { decode, encodePlain } from './fast-clone';

/**
 * How a value becomes a message and back, for other packages that carry messages (a Queue's
 * items): the fast encoder for plain data, the transfer protocol for the rest.
 * The result may be a view of a scratch buffer, valid until the next call: copy it at once.
 */
export function encodeMessage(obj: unknown, what: string): Buffer {
  return encodePlain(obj, messageContext) ?? dumps(obj, messageContext, what);
}

/** The message in `data` from `start` on. */
export function decodeMessage(data: Buffer, start = 0): unknown {
  return decode(data, messageContext, messageContext, start);
}
