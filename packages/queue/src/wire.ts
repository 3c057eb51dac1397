import { fstatSync, ftruncateSync, readSync, writeSync } from 'node:fs';
import type { OnReadOpts } from 'node:net';
import { join } from 'node:path';

/**
 * The queue protocol between a participant (any process using a Queue) and the broker thread
 * that holds the items. A frame is a u32 little-endian payload length, a type byte, the payload.
 * An item travels as the same frame from producer to broker to consumer: the broker never
 * decodes it.
 */
export const HEADER = 5;
/** The largest payload accepted; a larger header means the stream is garbage. */
export const MAX_PAYLOAD = 2 ** 31 - 1;

export const enum T {
  /** p→b: `{ n, maxsize, joinable, token }` as JSON. b→p: u32 slot (its `handed` file, its place in `seen`). */
  Hello = 1,
  /** p→b: an item put. b→p: an item delivered. */
  Item = 2,
  /**
   * p→b: u32 more items wanted, f64 items handed to the program so far, u32 gets waiting here
   * with nothing to take (the broker serves those from any producer, read-ahead only from the
   * producers this consumer already holds items of).
   */
  Want = 3,
  /** p→b: u32 wanted items no longer wanted (a get that timed out or was aborted). b→p: u32 how many were withdrawn. */
  Cancel = 4,
  /** p→b: send one item if there is one. b→p: u8 1 (the item was sent just before) or 0 (Empty). */
  Try = 5,
  /** p→b: u32 more put permits wanted (bounded queues). b→p: u32 permits granted. */
  Permit = 6,
  /** p→b: grant one permit now or say Full. b→p: no room. */
  TryPermit = 7,
  /** p→b: u32 granted permits given back unused. */
  Release = 8,
  /** p→b: u32 tasks done. b→p: u8 1 done, 0 called too many times. */
  TaskDone = 9,
  /** p→b: u32 id, answered with the same id once no task is unfinished. */
  Join = 10,
  /** b→p: a UTF-8 reason; the broker closes the connection. */
  Error = 11,
  /**
   * Like Item, for a big item: the payload names a file in the broker's directory that holds
   * it. The item's bytes then go producer → memory file → consumer, not through two sockets.
   */
  Spilled = 12,
  /** b→p: u32 how many consumers the queue has now. */
  Consumers = 13,
  /**
   * b→p: give back every item not handed to the program yet (another consumer waits for items
   * of a producer this one holds). The broker sends nothing else to it until Returned.
   */
  Recall = 14,
  /** p→b: f64 items handed so far; every later item sent here is given back. Asks start anew. */
  Returned = 15,
}
export const LAST_TYPE = T.Returned;

export function frame(type: T, payload: Buffer = EMPTY): Buffer {
  const f = Buffer.allocUnsafe(HEADER + payload.length);
  f.writeUInt32LE(payload.length, 0);
  f[4] = type;
  payload.copy(f, HEADER);
  return f;
}

/** A frame of `type` with a payload of `size` bytes still to be written at HEADER. */
function sized(type: T, size: number): Buffer {
  const f = Buffer.allocUnsafe(HEADER + size);
  f.writeUInt32LE(size, 0);
  f[4] = type;
  return f;
}

export function u32Frame(type: T, n: number): Buffer {
  const f = sized(type, 4);
  f.writeUInt32LE(n, HEADER);
  return f;
}

export function f64Frame(type: T, v: number): Buffer {
  const f = sized(type, 8);
  f.writeDoubleLE(v, HEADER);
  return f;
}

export const EMPTY = Buffer.alloc(0);

/** Where this thread's queue sockets read (a participant's, or the broker's); each read is copied out at once. */
const SCRATCH = Buffer.allocUnsafe(64 * 1024);

/**
 * Reading with `onread` into SCRATCH, each read copied out for `onChunk`: no stream machinery
 * per read, as `'data'` events have. `onChunk` returning false stops reading.
 */
export function copyingOnRead(onChunk: (chunk: Buffer) => boolean): OnReadOpts {
  return { buffer: SCRATCH, callback: (n, buf) => onChunk(Buffer.from(buf.subarray(0, n))) };
}

/**
 * Splits a byte stream into frames. Frames are views of the chunks read (copied only when a
 * frame spans chunks), and memory holds what arrived, never what a bogus header claims.
 * `onFrame` gets the whole frame, header included, so a relay can pass it on unchanged; its
 * payload starts at HEADER (a view of it is made only where needed: items are most frames).
 */
export class FrameReader {
  #chunks: Buffer[] = [];
  #buffered = 0;
  /** Bytes the frame at the head needs in all, once its header has arrived. */
  #need = HEADER;

  constructor(private readonly onFrame: (type: number, whole: Buffer) => void) {}

  /** Bytes of an incomplete frame: a stream that ends with some ended mid-frame. */
  get partial(): number {
    return this.#buffered;
  }

  /** Throws when the bytes cannot be frames of this protocol. */
  push(chunk: Buffer): void {
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
    // A big frame arrives in many chunks: join them once, when the whole frame is here.
    if (this.#buffered < this.#need) return;
    let buf = this.#chunks.length === 1 ? this.#chunks[0] : Buffer.concat(this.#chunks, this.#buffered);
    let off = 0;
    this.#need = HEADER;
    while (buf.length - off >= HEADER) {
      const length = buf.readUInt32LE(off);
      const type = buf[off + 4];
      if (type < T.Hello || type > LAST_TYPE || length > MAX_PAYLOAD) {
        throw new Error(`not a multiproc queue stream (frame header: length ${length}, type ${type})`);
      }
      const end = off + HEADER + length;
      if (end > buf.length) {
        this.#need = HEADER + length;
        break;
      }
      this.onFrame(type, buf.subarray(off, end));
      off = end;
    }
    buf = buf.subarray(off);
    this.#chunks = buf.length > 0 ? [buf] : [];
    this.#buffered = buf.length;
  }
}

/**
 * What the kernel keeps whatever happens to a process: small files in the broker's directory.
 * - `handed-<slot>`: per consumer connection, the items it has handed to its program, as the
 *   file's size (see writeHanded). The consumer sets it before every hand-off, so a consumer
 *   killed at any instant has told the broker exactly which items it took. Only that consumer
 *   writes it (no contention).
 * - `seen`: per connection slot, written by the broker: f64 items of its puts received, f64 its
 *   handed count as the broker accounted for it.
 * - `sizes`: an f64 version, odd while the broker updates `sizes` and `seen`; then per queue,
 *   f64 its size as the broker last published it.
 * qsize() reads `sizes` and corrects it with what this process did that the broker has not seen.
 */
export const SEEN_BYTES = 16;
export const SIZE_BYTES = 8;
export const sizeOffset = (n: number): number => (n + 1) * SIZE_BYTES;
export const handedFile = (dir: string, slot: number): string => join(dir, `handed-${slot}`);

/**
 * Records `n` items handed in a `handed` file: as its size, since ftruncate costs ~60% of a pwrite
 * (no page to write), and it runs at every get. Where a file size limit (`ulimit -f`) refuses
 * that, as an f64 at offset 0 from then on. Returns whether the size still holds the count.
 */
export function writeHanded(fd: number, n: number, bySize: boolean, scratch: Buffer): boolean {
  if (bySize) {
    try {
      ftruncateSync(fd, n);
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EFBIG') throw err;
    }
  }
  scratch.writeDoubleLE(n, 0);
  writeSync(fd, scratch, 0, 8, 0);
  return false;
}

/** The count in a `handed` file: both of its records only grow, so the larger is the last. */
export function readHanded(fd: number, scratch: Buffer): number {
  const written = readSync(fd, scratch, 0, 8, 0) === 8 ? scratch.readDoubleLE(0) : 0;
  return Math.max(fstatSync(fd).size, written);
}

export interface QueueDescriptor {
  /** The broker's private directory: `queue.sock`, `seen`, `sizes`, `handed-<slot>`. */
  dir: string;
  /** The queue's number at its broker (also its slot in `sizes`). */
  n: number;
  maxsize: number;
  joinable: boolean;
  /** HMAC of the fields above under the broker's secret: proof of having been given the queue. */
  token: string;
  /** The pid of the process that holds the items. */
  owner: number;
}

export function signedFields(d: Pick<QueueDescriptor, 'n' | 'maxsize' | 'joinable'>): string {
  return `${d.n}:${d.maxsize}:${d.joinable ? 1 : 0}`;
}
