import { describeValue } from '@multiproc/core/internal';

/**
 * Python's `array` typecodes and the typed array each maps to. 'l'/'L' are C longs: 64-bit on the
 * 64-bit Linux and macOS that Node runs on.
 */
const TYPES = {
  b: Int8Array,
  B: Uint8Array,
  h: Int16Array,
  H: Uint16Array,
  i: Int32Array,
  I: Uint32Array,
  f: Float32Array,
  d: Float64Array,
  q: BigInt64Array,
  Q: BigUint64Array,
  l: BigInt64Array,
  L: BigUint64Array,
} as const;

export type Typecode = keyof typeof TYPES;
export type TypedArrayFor<T extends Typecode> = InstanceType<(typeof TYPES)[T]>;
export type SharedTypedArray = TypedArrayFor<Typecode>;
type TypedArrayClass = (typeof TYPES)[Typecode];

export function typeOf(typecode: unknown, where: string): TypedArrayClass {
  if (typeof typecode === 'string' && Object.prototype.hasOwnProperty.call(TYPES, typecode)) return TYPES[typecode as Typecode];
  throw new TypeError(
    `${where}: typecode must be one of ${Object.keys(TYPES).map((t) => `'${t}'`).join(' ')} (as Python's array module), got ${describeValue(typecode)}`,
  );
}

export const isBigIntType = (type: TypedArrayClass): boolean => type === BigInt64Array || type === BigUint64Array;

/** A count of elements or bytes: an integer ≥ 0 within what one mapping can hold. */
export function checkCount(n: unknown, what: string, max: number): number {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) throw new TypeError(`${what} must be an integer ≥ 0, got ${describeValue(n)}`);
  if (n > max) throw new RangeError(`${what} is ${n}, over the largest this platform can map (${max})`);
  return n;
}

/** Converts one initial value to what an array of `type` stores, or says why it cannot. */
export function element(type: TypedArrayClass, v: unknown, what: string): number | bigint {
  if (isBigIntType(type)) {
    if (typeof v === 'bigint') return v;
    if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v);
    throw new TypeError(`${what} must be a BigInt (or an integer number) for a 64-bit typecode, got ${describeValue(v)}`);
  }
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean') return Number(v);
  throw new TypeError(`${what} must be a number, got ${describeValue(v)}`);
}
