// The queue's framing (FrameReader and the frame builders), fed by hand: no socket, no process.
import { describe, expect, it } from 'vitest';
import { f64Frame, frame, FrameReader, HEADER, LAST_TYPE, MAX_PAYLOAD, T, u32Frame } from '../src/wire';

function collect() {
  const frames: [number, Buffer][] = [];
  const reader = new FrameReader((type, whole) => frames.push([type, Buffer.from(whole)]));
  return { frames, reader };
}

describe('queue wire: frames', () => {
  it('frame, u32Frame and f64Frame write the header and payload', () => {
    expect(frame(T.Item, Buffer.from('ab'))).toEqual(Buffer.from([2, 0, 0, 0, T.Item, 0x61, 0x62]));
    expect(frame(T.Try)).toEqual(Buffer.from([0, 0, 0, 0, T.Try]));
    const u = u32Frame(T.Want, 0x01020304);
    expect([u.readUInt32LE(0), u[4], u.readUInt32LE(HEADER)]).toEqual([4, T.Want, 0x01020304]);
    const f = f64Frame(T.Returned, 2 ** 40 + 0.5);
    expect([f.readUInt32LE(0), f[4], f.readDoubleLE(HEADER)]).toEqual([8, T.Returned, 2 ** 40 + 0.5]);
  });
});

describe('queue wire: FrameReader', () => {
  const stream = Buffer.concat([frame(T.Item, Buffer.from('first')), u32Frame(T.Want, 7), frame(T.Try), frame(T.Item, Buffer.alloc(70_000, 1))]);
  const expected = [
    [T.Item, frame(T.Item, Buffer.from('first'))],
    [T.Want, u32Frame(T.Want, 7)],
    [T.Try, frame(T.Try)],
    [T.Item, frame(T.Item, Buffer.alloc(70_000, 1))],
  ];

  it('gives whole frames, header included, in order', () => {
    const { frames, reader } = collect();
    reader.push(stream);
    expect(frames).toEqual(expected);
    expect(reader.partial).toBe(0);
  });

  it('the same whatever the chunks: cut at every place around the small frames, and in 1 KiB chunks', () => {
    for (let cut = 1; cut < 40; cut++) {
      const { frames, reader } = collect();
      reader.push(stream.subarray(0, cut));
      reader.push(stream.subarray(cut));
      expect(frames).toEqual(expected);
    }
    const { frames, reader } = collect();
    for (let off = 0; off < stream.length; off += 1024) {
      reader.push(stream.subarray(off, off + 1024));
      if (frames.length < expected.length) expect(reader.partial).toBe(Math.min(off + 1024, stream.length) - frames.reduce((n, [, w]) => n + w.length, 0));
    }
    expect(frames).toEqual(expected);
    expect(reader.partial).toBe(0);
  });

  it('holds what it has of an incomplete frame', () => {
    const { frames, reader } = collect();
    reader.push(frame(T.Item, Buffer.from('abc')).subarray(0, 6));
    expect(frames).toEqual([]);
    expect(reader.partial).toBe(6);
  });

  it.each([
    ['type 0', Buffer.from([0, 0, 0, 0, 0])],
    ['a type past the last', Buffer.from([0, 0, 0, 0, LAST_TYPE + 1])],
    ['a length over MAX_PAYLOAD', (() => { const h = frame(T.Item); h.writeUInt32LE(MAX_PAYLOAD + 1, 0); return h; })()],
  ])('%s is not this protocol: it throws, after the frames before it', (_, garbage) => {
    const { frames, reader } = collect();
    expect(() => reader.push(Buffer.concat([frame(T.Try), garbage]))).toThrow(/not a multiproc queue stream/);
    expect(frames).toEqual([[T.Try, frame(T.Try)]]);
  });
});
