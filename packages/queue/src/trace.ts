import { traceFlow, traceFlowId, traceRecord } from '@multiproc/core/internal';

/**
 * A Queue item in the trace. While tracing, a producer appends a tag to the item's encoded bytes
 * (its pid and its count of puts, then a marker), which the broker passes on unread and the
 * consumer strips, so a put and its get name the same arrow. Untraced items carry nothing extra;
 * an untraced consumer decodes a tagged item all the same (decoding stops at the value's end).
 */
const TAG = 12;
const MARKER = 0x4d505451; // 'MPTQ'
let puts = 0;

/** The bytes to send for `payload`, tagged; records the put. */
export function tagItem(payload: Buffer): Buffer {
  const seq = ++puts;
  const tagged = Buffer.allocUnsafe(payload.length + TAG);
  payload.copy(tagged, 0);
  tagged.writeUInt32LE(process.pid, payload.length);
  tagged.writeUInt32LE(seq, payload.length + 4);
  tagged.writeUInt32LE(MARKER, payload.length + 8);
  traceFlow('out', 'put', 'queue', traceFlowId(`queue:${process.pid}:${seq}`), { bytes: payload.length, item: `${process.pid}.${seq}` });
  return tagged;
}

/** The item's own bytes (the tag stripped, if it has one); records the get. */
export function untagItem(data: Buffer): Buffer {
  const end = data.length - TAG;
  if (end < 0 || data.readUInt32LE(end + 8) !== MARKER) {
    traceRecord({ ph: 'X', name: 'get', cat: 'queue', dur: 2, args: { bytes: data.length } });
    return data;
  }
  const pid = data.readUInt32LE(end);
  const seq = data.readUInt32LE(end + 4);
  traceFlow('in', 'get', 'queue', traceFlowId(`queue:${pid}:${seq}`), { bytes: end, item: `${pid}.${seq}` });
  return data.subarray(0, end);
}
