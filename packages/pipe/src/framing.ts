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

/**
 * Splits a byte stream into frames. A frame's chunks are joined once it is complete, so memory
 * holds what arrived, never what a (possibly bogus) header claims.
 */
export class FrameParser {
  #chunks: Buffer[] = [];
  #buffered = 0;
  #kind = -1;
  #length = -1;

  constructor(private readonly onFrame: (frame: Frame) => void) {}

  /** Bytes of an incomplete frame held: a stream that ends here ended mid-message. */
  get partial(): number {
    return this.#buffered + (this.#length >= 0 ? HEADER : 0);
  }

  /** The bytes of the incomplete frame, as they came (its header included); the parser starts over. */
  take(): Buffer[] {
    const parts = this.#length >= 0 ? [header(this.#kind, this.#length), ...this.#chunks] : this.#chunks;
    this.#chunks = [];
    this.#buffered = 0;
    this.#length = this.#kind = -1;
    return parts;
  }

  /** Throws a ProcessError when the bytes cannot be multiproc messages. */
  push(chunk: Buffer): void {
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
