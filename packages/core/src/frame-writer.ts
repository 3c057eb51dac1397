import { writeSync, writevSync } from 'node:fs';
import type { Socket } from 'node:net';
import { SocketWriter, type WriterOwner } from './socket-writer';
import { canSpin, MAX_SKIP, receivesWaiting, whileFlowing } from './sync-io';

/**
 * A frame on a multiproc socket, a Connection's message and a queue's alike: a 5-byte header
 * (u32 little-endian payload length, one kind byte), then the payload.
 */
export const FRAME_HEADER = 5;

export function frameHeader(kind: number, length: number): Buffer {
  const h = Buffer.allocUnsafe(FRAME_HEADER);
  h.writeUInt32LE(length, 0);
  h[4] = kind;
  return h;
}

/** A batch starts small (a lone message of a round trip costs no big allocation) and grows to BATCH. */
const FIRST_BATCH = 512;
const BATCH = 64 * 1024;
/** A big frame's writer waits this long for more room (past most of a reader's GC pauses). */
const WRITE_STALL_MS = 2;
const RESOLVED = Promise.resolve();

export interface FrameWriterOptions {
  /** When a batch leaves: at the end of this tick, or after this turn's I/O (more frames a write, later). */
  flushOn: 'tick' | 'immediate';
  /** The first frame of a tick is written at once: its peer has it even if this thread blocks next. */
  firstAtOnce: boolean;
  /** Payloads up to this many bytes are copied into the batch; bigger ones go as they are. */
  small: number;
  /** Big frames are written from this thread while the kernel takes them (see sync-io.ts). */
  spinBig: boolean;
}

export interface FrameWriterOwner extends Omit<WriterOwner, 'beforeExit' | 'failed'> {
  /** A write failed (EPIPE: the peer closed its end); returns what the batch's frames reject with. */
  failed(err: Error): Error;
  /** At exit: whether what is left is to be written (false drops it: a queue's cancelJoinThread()). */
  writeAtExit?(): boolean;
}

/**
 * Writes frames to a socket in order: small ones copied into a batch that leaves in one write at
 * the end of the tick (or when full), big ones as they are. Every byte goes through one SocketWriter, which
 * loses nothing to process.exit().
 */
export class FrameWriter {
  readonly #sink: SocketWriter;
  readonly #opts: FrameWriterOptions;
  #batch: Buffer | null = null;
  #length = 0;
  /** The next batch's first size: about what the last one needed. */
  #capacity = FIRST_BATCH;
  /** Settles the frames in the batch once it is written (made only when someone asks: see sent). */
  #sent: Promise<void> | null = null;
  #settleSent: ((err: Error | null) => void) | null = null;
  /** What the frames of a batch written after a failure reject with (the owner's word for it). */
  #failure: Error | null = null;
  /** A frame went at once this tick: the next ones are batched until the tick ends. */
  #burst = false;
  #scheduled = false;
  /** Big frames to leave to the event loop, and how many the next reader stall makes it (see #writeNow). */
  #writeSkip = 0;
  #writeBackoff = 0;

  constructor(owner: FrameWriterOwner, opts: FrameWriterOptions) {
    this.#opts = opts;
    this.#sink = new SocketWriter({
      hold: () => owner.hold(),
      beforeExit: () => {
        const write = owner.writeAtExit?.() ?? true;
        if (write) this.flush();
        return write;
      },
      failed: (err) => {
        this.#failure = owner.failed(err);
      },
      describe: () => owner.describe(),
    });
  }

  attach(socket: Socket): void {
    this.#sink.attach(socket);
  }

  /** The write error that stopped this writer (EPIPE: the peer closed its end), if any. */
  get error(): Error | null {
    return this.#sink.error;
  }

  /** Bytes not yet taken by the kernel, the batch's included. */
  get pending(): number {
    return this.#length + this.#sink.pending;
  }

  /**
   * Settles once the frames given so far are written or kept to be: rejects when the batch they
   * are in meets a failed writer (a frame written at once reports its failure through the owner).
   */
  get sent(): Promise<void> {
    if (!this.#batch) return RESOLVED;
    return (this.#sent ??= new Promise<void>((resolve, reject) => (this.#settleSent = (err) => (err ? reject(err) : resolve()))));
  }

  /** One frame. `payload` is borrowed: what is not written at once is copied. */
  frame(kind: number, payload: Buffer): void {
    if (payload.length <= this.#opts.small) this.#append(kind, payload);
    else this.#big(kind, payload, false);
  }

  /** One frame whose payload is not copied: it resolves once the kernel has it, and the caller may reuse it then. */
  frameUntilKernel(kind: number, payload: Buffer): Promise<void> {
    if (payload.length <= this.#opts.small) {
      this.#append(kind, payload);
      return this.sent;
    }
    return new Promise((resolve) => this.#big(kind, payload, true, resolve));
  }

  /** A frame made already, header included. */
  framed(bytes: Buffer): void {
    this.frame(bytes[4], bytes.subarray(FRAME_HEADER));
  }

  #append(kind: number, payload: Buffer): void {
    const need = FRAME_HEADER + payload.length;
    if (this.#opts.firstAtOnce && !this.#burst && !this.#batch) {
      this.#burst = true;
      this.#schedule();
      const b = scratchFor(need);
      b.writeUInt32LE(payload.length, 0);
      b[4] = kind;
      payload.copy(b, FRAME_HEADER);
      this.#sink.write(b.subarray(0, need), false);
      return;
    }
    let b = this.#batch;
    if (b && this.#length + need > b.length) {
      if (this.#length + need > BATCH) {
        this.flush();
        b = null;
      } else {
        const bigger = Buffer.allocUnsafe(Math.min(BATCH, Math.max(b.length * 2, this.#length + need)));
        b.copy(bigger, 0, 0, this.#length);
        b = this.#batch = bigger;
      }
    }
    if (!b) {
      b = this.#batch = Buffer.allocUnsafe(Math.max(this.#capacity, need));
      this.#length = 0;
      this.#sink.expect();
      this.#schedule();
    }
    b.writeUInt32LE(payload.length, this.#length);
    b[this.#length + 4] = kind;
    payload.copy(b, this.#length + FRAME_HEADER);
    this.#length += need;
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    if (this.#opts.flushOn === 'tick') process.nextTick(this.#endTick);
    else setImmediate(this.#endTick);
  }

  #endTick = (): void => {
    this.#scheduled = false;
    this.#burst = false;
    this.flush();
  };

  /** The batch leaves now (before a frame that must follow it, or a read that waits for an answer to it). */
  flush(): void {
    const batch = this.#batch;
    if (!batch) return;
    const n = this.#length;
    this.#batch = null;
    this.#length = 0;
    this.#capacity = Math.min(BATCH, Math.max(FIRST_BATCH, n));
    this.#sink.write(batch.subarray(0, n), true);
    const settle = this.#settleSent;
    this.#sent = this.#settleSent = null;
    settle?.(this.#failure);
  }

  /** Its header and the payload: what the kernel takes at once from this thread, the rest kept in order. */
  #big(kind: number, payload: Buffer, owned: boolean, done?: () => void): void {
    this.flush();
    let head = frameHeader(kind, payload.length);
    const sent = this.#opts.spinBig ? this.#writeNow(head, payload) : 0;
    if (sent === FRAME_HEADER + payload.length) return done?.();
    head = head.subarray(Math.min(sent, FRAME_HEADER));
    payload = payload.subarray(Math.max(0, sent - FRAME_HEADER));
    if (head.length > 0) this.#sink.write(head, true);
    this.#sink.write(payload, owned, done);
  }

  /**
   * Writes what the kernel takes of a big frame now, from this thread, when nothing of ours waits
   * to be written (so the order holds). When the reader stalls, the next big frame goes through
   * the event loop; after another stall the next 2, then 4 …: a reader that only paused is soon
   * written to from this thread again, a slow one costs little spinning.
   */
  #writeNow(head: Buffer, payload: Buffer): number {
    const fd = this.#sink.idleFd();
    if (fd < 0 || !canSpin() || receivesWaiting.n > 0) return 0;
    if (this.#writeSkip > 0) {
      this.#writeSkip--;
      return 0;
    }
    const total = head.length + payload.length;
    let sent = 0;
    const ended = whileFlowing(WRITE_STALL_MS, () => {
      sent += sent < head.length ? writevSync(fd, [head.subarray(sent), payload]) : writeSync(fd, payload, sent - head.length);
      return sent < total;
    });
    if (ended === 'stalled') {
      this.#writeBackoff = Math.min(MAX_SKIP, this.#writeBackoff * 2 || 1);
      this.#writeSkip = this.#writeBackoff;
    } else if (ended === 'done') this.#writeBackoff = 0;
    return sent;
  }

  /** Resolves once the kernel has every frame given so far, or the writer failed. */
  flushed(): Promise<void> {
    this.flush();
    return this.#sink.flushed();
  }
}

/** Where a frame written at once is put together (the sink copies what the kernel does not take). */
let scratch = Buffer.allocUnsafe(16 * 1024 + FRAME_HEADER);
function scratchFor(n: number): Buffer {
  if (scratch.length < n) scratch = Buffer.allocUnsafe(n);
  return scratch;
}
