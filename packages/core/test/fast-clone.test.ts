import { describe, expect, it } from 'vitest';
// The built code, through the internal subpath: the layout is checked as every package uses it.
import { decode as _decode, dumps, encodePlain as _encodePlain, loads } from '@multiproc/core/internal';

const tctx = { kind: 'message' as const, duplicateForChild: () => 0 };
const rctx = { kind: 'message' as const, detachHandle: () => { throw new Error('no handles'); } };

const samples: unknown[] = [
  null, undefined, true, false, 0, -0, 1, -1, 2 ** 31 - 1, -(2 ** 31), 2 ** 31, 1.5, NaN, Infinity, -Infinity, Number.MAX_SAFE_INTEGER,
  '', 'hello', 'é à ÿ', 'x'.repeat(20000), 'snow ☃', '😀 two-byte',
  [], [1, 2, 3], [42, null, 'hello'], [[[]]], { i: 1, s: 'hello' }, {}, { a: { b: { c: [1, { d: 'e' }] } } },
  { '1': 'index key', a: 1 }, { 'x-y': 1, ['__proto__']: 5 }, [1, , 3], Object.assign([1, 2], { extra: true }),
  new Map([[1, 2]]), new Set([1]), new Date(0), /re/g, 10n, Buffer.from('buf'), new Uint16Array([1, 2]), new Error('e'),
  Object.create(null), Object.create({ inherited: 1 }), { get g() { return 1; } },
];

describe('the plain-data fast path reads and writes what v8 does', () => {
  it.each(samples.map((v, i) => [i, v]))('sample %i: loads(fast encode) and fast decode(dumps) both give the structured clone', (_i, v) => {
    const reference = loads(dumps(v, tctx), rctx);
    const fast = _encodePlain(v);
    if (fast) expect(loads(Buffer.from(fast), rctx)).toStrictEqual(reference);
    expect(_decode(dumps(v, tctx), rctx)).toStrictEqual(reference);
  });

  it('decodes each key as itself while many keys share the cache of recent keys', () => {
    // 600 keys for 256 slots, lengths 0-40 (past the cached length too), Latin-1 letters.
    const keys = Array.from({ length: 600 }, (_, i) => String.fromCharCode(...Array.from({ length: i % 41 }, (_, j) => 0x61 + ((i * 7 + j * 13) % 26) + (j % 5 === 4 ? 0x80 : 0))));
    for (let n = 0; n < 3000; n++) {
      const o: Record<string, number> = {};
      for (let k = 0; k < 3; k++) o['k' + keys[(n * 31 + k * 97) % keys.length]] = n + k;
      expect(_decode(dumps(o, tctx), rctx)).toStrictEqual(loads(dumps(o, tctx), rctx));
    }
  });

  it('keeps shared references and cycles to v8 (it gives up on them)', () => {
    const shared = { x: 1 };
    const cyclic: any = { a: 1 };
    cyclic.self = cyclic;
    expect(_encodePlain([shared, shared])).toBeNull();
    expect(_encodePlain(cyclic)).toBeNull();
    const back = _decode(dumps([shared, shared], tctx), rctx) as any[];
    expect(back[0]).toBe(back[1]);
  });

  it('throws nothing of its own for values v8 refuses: dumps reports those', () => {
    expect(_encodePlain({ f: () => 1 })).toBeNull();
    expect(() => dumps({ f: () => 1 }, tctx)).toThrow(TypeError);
  });
});
