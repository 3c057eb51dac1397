/**
 * Long runs of numbers — the items and results of most data-parallel maps — travel as one typed
 * array: the serializer copies its bytes instead of writing and reading back every element.
 * Int32Array when every number is a 32-bit integer (half the bytes), else Float64Array (which
 * keeps every number exactly, -0 and NaN included). Short runs stay arrays: the pipe's fast
 * encoder is quicker there than a typed array through v8.
 */
const PACK_FROM = 256;

export type Packed = unknown[] | Int32Array | Float64Array;

/** `items[start..end)`, packed when long and all numbers. */
export function slicePacked(items: ArrayLike<unknown>, start: number, end: number): Packed {
  const n = end - start;
  if (n >= PACK_FROM) {
    const ints = new Int32Array(n);
    let i = 0;
    for (; i < n; i++) {
      const v = items[start + i];
      // (-0 | 0) === -0, so -0 needs its own test (1 / -0 is -Infinity); Object.is costs a third more here.
      if (typeof v !== 'number' || (v | 0) !== v || (v === 0 && 1 / v < 0)) break;
      ints[i] = v;
    }
    if (i === n) return ints;
    const doubles = new Float64Array(n);
    doubles.set(ints.subarray(0, i));
    for (; i < n; i++) {
      const v = items[start + i];
      if (typeof v !== 'number') break;
      doubles[i] = v;
    }
    if (i === n) return doubles;
  }
  return Array.prototype.slice.call(items, start, end) as unknown[];
}

/** A dense array, packed when long and all numbers. */
export function pack(values: unknown[]): Packed {
  return values.length >= PACK_FROM ? slicePacked(values, 0, values.length) : values;
}

/**
 * `from[start..end)` of a map's input, cut (and packed) only when it is sent: the first chunk
 * leaves at once, and cutting the rest overlaps with the workers' work (Python's pool, too,
 * reads its input as it dispatches).
 */
export class Slice {
  constructor(
    readonly from: ArrayLike<unknown>,
    readonly start: number,
    readonly end: number,
    /** Items are argument lists (starmap): never packed. */
    readonly star: boolean,
  ) {}

  cut(): Packed {
    return this.star ? (Array.prototype.slice.call(this.from, this.start, this.end) as unknown[]) : slicePacked(this.from, this.start, this.end);
  }
}

/** `out[at…] = values`: one loop per kind of source, each kept monomorphic (the copy is per element). */
export function copyInto(out: unknown[], at: number, values: ArrayLike<unknown>): void {
  if (values instanceof Int32Array) copyInts(out, at, values);
  else if (values instanceof Float64Array) copyDoubles(out, at, values);
  else copyValues(out, at, values);
}

function copyInts(out: unknown[], at: number, values: Int32Array): void {
  for (let i = 0; i < values.length; i++) out[at + i] = values[i];
}

function copyDoubles(out: unknown[], at: number, values: Float64Array): void {
  for (let i = 0; i < values.length; i++) out[at + i] = values[i];
}

function copyValues(out: unknown[], at: number, values: ArrayLike<unknown>): void {
  for (let i = 0; i < values.length; i++) out[at + i] = values[i];
}
