// How a map's items and results are cut and packed (pack.ts): no pool, no process.
import { describe, expect, it } from 'vitest';
import { copyInto, pack, Slice, slicePacked } from '../src/pack';

describe('pack', () => {
  const ints = Array.from({ length: 300 }, (_, i) => (i % 2 ? -i : i * 1000));

  it('long runs of 32-bit integers become an Int32Array', () => {
    const p = pack(ints);
    expect(p).toBeInstanceOf(Int32Array);
    expect(Array.from(p)).toEqual(ints);
  });

  it('other numbers (-0, NaN, fractions, past 32 bits) make a Float64Array that keeps each exactly', () => {
    for (const odd of [-0, NaN, 0.5, Infinity, 2 ** 31, -(2 ** 31) - 1, 1e-320]) {
      const values = [...ints.slice(0, 100), odd, ...ints.slice(100)];
      const p = pack(values);
      expect(p).toBeInstanceOf(Float64Array);
      expect(Array.from(p).every((v, i) => Object.is(v, values[i]))).toBe(true);
    }
    expect(pack([-(2 ** 31), 2 ** 31 - 1, ...ints])).toBeInstanceOf(Int32Array);
  });

  it('anything not a number, anywhere, keeps an array', () => {
    for (const at of [0, 150, 300]) {
      for (const odd of ['1', null, undefined, 1n, {}]) {
        const values: unknown[] = [...ints];
        values.splice(at, 0, odd);
        const packed = pack(values);
        expect(Array.isArray(packed)).toBe(true);
        expect(packed).toEqual(values);
        const cut = slicePacked(values, 0, values.length);
        expect(Array.isArray(cut)).toBe(true);
        expect(cut).toEqual(values);
      }
    }
    const doublesThenText = [0.5, ...ints, 'x'];
    expect(Array.isArray(pack(doublesThenText))).toBe(true);
  });

  it('short runs stay arrays', () => {
    const short = ints.slice(0, 255);
    expect(pack(short)).toBe(short);
    expect(pack(ints.slice(0, 256))).toBeInstanceOf(Int32Array);
    expect(slicePacked(ints, 10, 20)).toEqual(ints.slice(10, 20));
  });

  it('slicePacked cuts [start, end) of any array-like', () => {
    const p = slicePacked(ints, 7, 7 + 280);
    expect(Array.from(p)).toEqual(ints.slice(7, 287));
    const arrayLike = { length: 3, 0: 'a', 1: 'b', 2: 'c' };
    expect(slicePacked(arrayLike, 1, 3)).toEqual(['b', 'c']);
  });

  it('a Slice cuts when asked; a starmap slice (argument lists) is never packed', () => {
    expect(new Slice(ints, 0, 300, false).cut()).toBeInstanceOf(Int32Array);
    const star = new Slice(ints, 0, 300, true).cut();
    expect(Array.isArray(star)).toBe(true);
    expect(star).toEqual(ints);
  });

  it('copyInto writes each kind of source into place', () => {
    const out: unknown[] = new Array(10).fill('-');
    copyInto(out, 1, Int32Array.of(1, 2));
    copyInto(out, 3, Float64Array.of(-0, 0.5));
    copyInto(out, 5, ['x', null]);
    expect(out).toEqual(['-', 1, 2, -0, 0.5, 'x', null, '-', '-', '-']);
    expect(Object.is(out[3], -0)).toBe(true);
  });
});
