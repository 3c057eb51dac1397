import { ProcessError } from '@multiproc/errors';

/**
 * A message on the wire: a 5-byte header — u32 payload length (little-endian) and one kind byte —
 * then the payload. Object messages carry `dumps()` output; byte messages carry raw bytes.
 */
export const HEADER = 5;
export const KIND_OBJECT = 0;
export const KIND_BYTES = 1;
/** The largest message accepted (2 GiB − 1): a bigger length in a header means the stream is garbage. */
export const MAX_MESSAGE = 2 ** 31 - 1;

export interface Frame {
  kind: number;
  payload: Buffer;
}

export function header(kind: number, length: number): Buffer {
  const h = Buffer.allocUnsafe(HEADER);
  h.writeUInt32LE(length, 0);
  h[4] = kind;
  return h;
}

/** A message at least this long is read straight into its own buffer. */
export const BIG = 64 * 1024;

/**
 * Splits a byte stream into frames. Small frames are views of the chunks read; a big frame gets
 * its own buffer once its header is known, and the socket reads straight into it (`target()`),
 * so memory holds what arrived and a big message is copied once, by the kernel.
 */
export class FrameParser {
  #chunks: Buffer[] = [];
  #buffered = 0;
  #kind = -1;
  #length = -1;
  /** The big frame being filled, and how much of it has arrived. */
  #big: Buffer | null = null;
  #fill = 0;

  /**
   * `claim(length)` may offer the buffer a big frame's bytes go into (a waiting recvBytesInto's),
   * exactly `length` long; otherwise the frame gets a buffer of its own.
   */
  constructor(
    private readonly onFrame: (frame: Frame) => void,
    private readonly claim: (length: number) => Buffer | null = () => null,
  ) {}

  /** Bytes of an incomplete frame held: a stream that ends here ended mid-message. */
  get partial(): number {
    return this.#buffered + this.#fill + (this.#length >= 0 ? HEADER : 0);
  }

  /** Where the next read should go: the rest of a big frame's buffer, or null for a scratch buffer. */
  target(): Buffer | null {
    const rest = this.rest();
    return rest && rest.length >= BIG ? rest : null;
  }

  /** The unfilled rest of the big frame under way (its header is here), or null. */
  rest(): Buffer | null {
    if (!this.#big) {
      if (this.#length < BIG) return null;
      // Its header is here: from now on the message fills its own buffer.
      const big = this.claim(this.#length) ?? Buffer.allocUnsafe(this.#length);
      let off = 0;
      for (const c of this.#chunks) off += c.copy(big, off);
      this.#chunks = [];
      this.#buffered = 0;
      this.#big = big;
      this.#fill = off;
    }
    return this.#big.subarray(this.#fill);
  }

  /**
   * `n` bytes were read into `into`, what `target()` or `rest()` gave. They are copied when the
   * frame moved to another buffer since (see `disown`).
   */
  filled(n: number, into: Buffer): void {
    const big = this.#big!;
    if (into.buffer !== big.buffer || into.byteOffset !== big.byteOffset + this.#fill) into.copy(big, this.#fill, 0, n);
    this.#fill += n;
    if (this.#fill === this.#big!.length) this.#finishBig();
  }

  /** When the frame under way fills `buf` (a claimed buffer given back), it moves to a buffer of its own. */
  disown(buf: Buffer): void {
    const big = this.#big;
    if (!big || big.buffer !== buf.buffer || big.byteOffset !== buf.byteOffset) return;
    this.#big = Buffer.allocUnsafe(big.length);
    big.copy(this.#big, 0, 0, this.#fill);
  }

  #finishBig(): void {
    const payload = this.#big!;
    this.#big = null;
    this.#fill = 0;
    this.#length = -1;
    this.onFrame({ kind: this.#kind, payload });
  }

  /** The bytes of the incomplete frame, as they came (its header included); the parser starts over. */
  take(): Buffer[] {
    const held = this.#big ? [this.#big.subarray(0, this.#fill)] : this.#chunks;
    const parts = this.#length >= 0 ? [header(this.#kind, this.#length), ...held] : held;
    this.#chunks = [];
    this.#buffered = 0;
    this.#big = null;
    this.#fill = 0;
    this.#length = this.#kind = -1;
    return parts;
  }

  /** Throws a ProcessError when the bytes cannot be multiproc messages. */
  push(chunk: Buffer): void {
    if (this.#big) {
      const k = Math.min(this.#big.length - this.#fill, chunk.length);
      chunk.copy(this.#big, this.#fill, 0, k);
      this.#fill += k;
      if (this.#fill < this.#big.length) return;
      this.#finishBig();
      if (k === chunk.length) return;
      chunk = chunk.subarray(k);
    }
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
    for (;;) {
      const need = this.#length < 0 ? HEADER : this.#length;
      if (this.#buffered < need) return;
      const buf = this.#chunks.length === 1 ? this.#chunks[0] : Buffer.concat(this.#chunks, this.#buffered);
      let off = 0;
      while (buf.length - off >= (this.#length < 0 ? HEADER : this.#length)) {
        if (this.#length < 0) {
          const length = buf.readUInt32LE(off);
          const kind = buf[off + 4];
          if ((kind !== KIND_OBJECT && kind !== KIND_BYTES) || length > MAX_MESSAGE) {
            throw new ProcessError(
              `received bytes that are not a multiproc message (header: length ${length}, kind ${kind}); ` +
                'the peer is not a multiproc Connection or wrote to the socket directly. The connection is closed.',
            );
          }
          this.#kind = kind;
          this.#length = length;
          off += HEADER;
        } else {
          this.onFrame({ kind: this.#kind, payload: buf.subarray(off, off + this.#length) });
          off += this.#length;
          this.#length = -1;
        }
      }
      this.#chunks = off < buf.length ? [buf.subarray(off)] : [];
      this.#buffered = buf.length - off;
    }
  }
}
