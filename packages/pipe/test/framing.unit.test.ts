// FrameParser, the Connection's reading side, fed by hand: no socket, no process.
import { ProcessError } from '@multiproc/errors';
import { describe, expect, it } from 'vitest';
import { BIG, FrameParser, HEADER, header, KIND_BYTES, KIND_OBJECT, MAX_MESSAGE, type Frame } from '../src/framing';

const frameOf = (kind: number, payload: Buffer) => Buffer.concat([header(kind, payload.length), payload]);
const bytes = (n: number, seed = 0) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 7 + seed) & 0xff));

function collect(claim?: (length: number) => Buffer | null) {
  const frames: Frame[] = [];
  const parser = new FrameParser((f) => frames.push({ kind: f.kind, payload: Buffer.from(f.payload) }), claim);
  return { frames, parser };
}

describe('FrameParser: small frames', () => {
  it('several frames in one chunk, in order, with their kinds', () => {
    const { frames, parser } = collect();
    parser.push(Buffer.concat([frameOf(KIND_OBJECT, Buffer.from('one')), frameOf(KIND_BYTES, Buffer.alloc(0)), frameOf(KIND_BYTES, Buffer.from('three'))]));
    expect(frames).toEqual([
      { kind: KIND_OBJECT, payload: Buffer.from('one') },
      { kind: KIND_BYTES, payload: Buffer.alloc(0) },
      { kind: KIND_BYTES, payload: Buffer.from('three') },
    ]);
    expect(parser.partial).toBe(0);
  });

  it('a stream cut at every byte gives the same frames, and counts the partial bytes', () => {
    const stream = Buffer.concat([frameOf(KIND_OBJECT, bytes(10)), frameOf(KIND_BYTES, bytes(300, 1)), frameOf(KIND_OBJECT, bytes(1, 2))]);
    for (let cut = 1; cut < stream.length; cut++) {
      const { frames, parser } = collect();
      parser.push(stream.subarray(0, cut));
      expect(parser.partial).toBe(cut - frames.reduce((n, f) => n + HEADER + f.payload.length, 0));
      parser.push(stream.subarray(cut));
      expect(frames.map((f) => f.payload)).toEqual([bytes(10), bytes(300, 1), bytes(1, 2)]);
      expect(parser.partial).toBe(0);
    }
  });

  it('one byte at a time', () => {
    const { frames, parser } = collect();
    const stream = Buffer.concat([frameOf(KIND_BYTES, bytes(20)), frameOf(KIND_OBJECT, bytes(3))]);
    for (const b of stream) parser.push(Buffer.from([b]));
    expect(frames.map((f) => [f.kind, f.payload])).toEqual([
      [KIND_BYTES, bytes(20)],
      [KIND_OBJECT, bytes(3)],
    ]);
  });
});

describe('FrameParser: big frames', () => {
  it('a big frame pushed in chunks arrives whole, then the frames after it', () => {
    const { frames, parser } = collect();
    const big = bytes(BIG * 2 + 3);
    const stream = Buffer.concat([frameOf(KIND_BYTES, big), frameOf(KIND_OBJECT, Buffer.from('after'))]);
    for (let off = 0; off < stream.length; off += 10_000) parser.push(stream.subarray(off, off + 10_000));
    expect(frames.map((f) => f.payload)).toEqual([big, Buffer.from('after')]);
    expect(parser.partial).toBe(0);
  });

  it('target() is null until a big header is here, then the rest of its own buffer; filled() completes it', () => {
    const { frames, parser } = collect();
    expect(parser.target()).toBeNull();
    expect(parser.rest()).toBeNull();
    const big = bytes(BIG * 3);
    const stream = frameOf(KIND_BYTES, big);
    parser.push(stream.subarray(0, HEADER + 100));
    let target = parser.target()!;
    expect(target.length).toBe(big.length - 100);
    // The socket reads into the target: part of it, then the rest.
    stream.copy(target, 0, HEADER + 100, HEADER + 100 + 5000);
    parser.filled(5000, target);
    expect(parser.partial).toBe(HEADER + 5100);
    target = parser.target()!;
    expect(target.length).toBe(big.length - 5100);
    stream.copy(target, 0, HEADER + 5100);
    parser.filled(target.length, target);
    expect(frames).toEqual([{ kind: KIND_BYTES, payload: big }]);
    expect(parser.target()).toBeNull();
    expect(parser.partial).toBe(0);
  });

  it('target() is null once less than BIG is left, while rest() still gives it', () => {
    const { frames, parser } = collect();
    const big = bytes(BIG + 10);
    const stream = frameOf(KIND_OBJECT, big);
    parser.push(stream.subarray(0, HEADER + 20));
    expect(parser.target()).toBeNull();
    const rest = parser.rest()!;
    expect(rest.length).toBe(big.length - 20);
    stream.copy(rest, 0, HEADER + 20);
    parser.filled(rest.length, rest);
    expect(frames).toEqual([{ kind: KIND_OBJECT, payload: big }]);
  });

  it('claim() gives the buffer a big frame fills; disown() moves it to its own and filled() copies into that', () => {
    const into = Buffer.alloc(BIG * 2);
    const lengths: number[] = [];
    const payloads: Buffer[] = [];
    const parser = new FrameParser(
      (f) => payloads.push(f.payload),
      (length) => (lengths.push(length), into.subarray(0, length)),
    );
    const big = bytes(BIG * 2);
    const stream = frameOf(KIND_BYTES, big);
    parser.push(stream.subarray(0, HEADER + 10));
    const target = parser.target()!;
    expect(lengths).toEqual([BIG * 2]);
    expect(target.buffer).toBe(into.buffer);
    expect(into.subarray(0, 10)).toEqual(big.subarray(0, 10)); // what had arrived was copied in
    stream.copy(target, 0, HEADER + 10, HEADER + 1000);
    parser.filled(990, target);
    // The claimed buffer is given back: the frame goes on in a buffer of its own...
    parser.disown(into);
    into.fill(0);
    // ...and a read already made into the old one is copied over.
    stream.copy(target, 990, HEADER + 1000);
    parser.filled(big.length - 1000, target.subarray(990));
    expect(payloads).toHaveLength(1);
    expect(payloads[0].buffer).not.toBe(into.buffer);
    expect(payloads[0]).toEqual(big);
  });

  it('disown() of another buffer, or with no big frame under way, changes nothing', () => {
    const into = Buffer.alloc(BIG);
    const payloads: Buffer[] = [];
    const parser = new FrameParser((f) => payloads.push(f.payload), (length) => into.subarray(0, length));
    parser.disown(into);
    parser.push(frameOf(KIND_BYTES, bytes(BIG)).subarray(0, HEADER + 1));
    expect(parser.rest()!.buffer).toBe(into.buffer);
    parser.disown(Buffer.alloc(BIG));
    parser.push(bytes(BIG).subarray(1));
    expect(payloads[0].buffer).toBe(into.buffer);
    expect(payloads[0]).toEqual(bytes(BIG));
  });

  it('a big frame with no claim gets a buffer of its own', () => {
    const { parser } = collect(() => null);
    parser.push(header(KIND_BYTES, BIG));
    expect(parser.rest()!.length).toBe(BIG);
  });
});

describe('FrameParser: take()', () => {
  it('gives the incomplete frame as it came, header included, and starts over', () => {
    const { frames, parser } = collect();
    const stream = Buffer.concat([frameOf(KIND_OBJECT, bytes(5)), frameOf(KIND_BYTES, bytes(50))]);
    parser.push(stream.subarray(0, HEADER + 5 + HEADER + 20));
    expect(Buffer.concat(parser.take())).toEqual(stream.subarray(HEADER + 5, HEADER + 5 + HEADER + 20));
    expect(parser.partial).toBe(0);
    parser.push(frameOf(KIND_OBJECT, Buffer.from('new')));
    expect(frames.map((f) => f.payload.toString('latin1'))).toEqual([bytes(5).toString('latin1'), 'new']);
  });

  it('a header cut short, and nothing at all', () => {
    const { parser } = collect();
    expect(parser.take()).toEqual([]);
    parser.push(header(KIND_BYTES, 9).subarray(0, 3));
    expect(Buffer.concat(parser.take())).toEqual(header(KIND_BYTES, 9).subarray(0, 3));
  });

  it('a big frame under way: its header and what filled it', () => {
    const { parser } = collect();
    const stream = frameOf(KIND_BYTES, bytes(BIG * 2));
    parser.push(stream.subarray(0, HEADER + 100));
    const target = parser.target()!;
    stream.copy(target, 0, HEADER + 100, HEADER + 300);
    parser.filled(200, target);
    expect(parser.partial).toBe(HEADER + 300);
    expect(Buffer.concat(parser.take())).toEqual(stream.subarray(0, HEADER + 300));
    expect(parser.target()).toBeNull();
    expect(parser.partial).toBe(0);
  });
});

describe('FrameParser: garbage', () => {
  it.each([
    ['an unknown kind', header(7, 1)],
    ['a length over MAX_MESSAGE', header(KIND_BYTES, MAX_MESSAGE + 1)],
    ['text', Buffer.from('GET / HTTP/1.1\r\n')],
  ])('%s throws a ProcessError', (_, chunk) => {
    const { frames, parser } = collect();
    expect(() => parser.push(chunk)).toThrow(ProcessError);
    expect(() => collect().parser.push(chunk)).toThrow(/not a multiproc message/);
    expect(frames).toEqual([]);
  });

  it('the frames before the garbage are delivered', () => {
    const { frames, parser } = collect();
    expect(() => parser.push(Buffer.concat([frameOf(KIND_OBJECT, Buffer.from('ok')), header(9, 0)]))).toThrow(ProcessError);
    expect(frames.map((f) => f.payload.toString())).toEqual(['ok']);
  });
});
