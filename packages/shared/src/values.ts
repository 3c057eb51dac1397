import { reduce, registerRebuilder, type Reduced } from '@multiproc/core';
import { describeValue, refuseUnknownOptions } from '@multiproc/core/internal';
import { allocate } from './arena';
import { checkCount, element, typeOf, type SharedTypedArray, type Typecode, type TypedArrayFor } from './typecodes';
import { ProcessError } from '@multiproc/errors';
import { lockSupport, registeredLockSupport, type SynchronizedLock } from './locks';
import { decorate, rebuildView } from './segment';

/** The most bytes one shared array may have: what a typed array can index. */
const MAX_BYTES = Number.MAX_SAFE_INTEGER;

/** Set while a value is made over memory that exists (a received one, getObj()): not a constructor argument users see. */
let adopting: SharedTypedArray | null = null;

function over<V>(view: SharedTypedArray, make: () => V): V {
  adopting = view;
  try {
    return make();
  } finally {
    adopting = null;
  }
}

/** One number in shared memory (Python's `sharedctypes.RawValue`): no lock. */
export class RawValue<T extends Typecode = Typecode> {
  readonly typecode: T;
  readonly #view: TypedArrayFor<T>;

  constructor(typecode: T, init: number | bigint = 0) {
    const Type = typeOf(typecode, `new ${new.target.name}(typecode, init)`);
    this.typecode = typecode;
    if (adopting) {
      this.#view = adopting as TypedArrayFor<T>;
      adopting = null;
      return;
    }
    const value = element(Type, init, `new ${new.target.name}(typecode, init): init`);
    const { segment, byteOffset } = allocate(Type.BYTES_PER_ELEMENT);
    this.#view = new Type(segment.buffer, byteOffset, 1) as TypedArrayFor<T>;
    this.#view[0] = value as never;
  }

  get value(): TypedArrayFor<T>[number] {
    return this.#view[0] as TypedArrayFor<T>[number];
  }

  set value(v: TypedArrayFor<T>[number]) {
    // The common case first: checking costs more than the store (this is a hot path under a lock).
    const view = this.#view;
    if (typeof v === (view instanceof BigInt64Array || view instanceof BigUint64Array ? 'bigint' : 'number')) view[0] = v as never;
    else view[0] = element(view.constructor as any, v, `${this.constructor.name}.value`) as never;
  }

  /** The one-element typed array over the value's memory (Atomics work on the integer ones). */
  get view(): TypedArrayFor<T> {
    return this.#view;
  }

  [reduce](): Reduced {
    return ['@multiproc/shared:RawValue', { typecode: this.typecode, view: this.#view }];
  }

  toString(): string {
    return `${this.constructor.name}('${this.typecode}', ${String(this.value)})`;
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
}

export interface ValueOptions {
  /**
   * The value's lock (Python's `lock=`): `true` (the default) makes an `RLock` of its own, a
   * `Lock`/`RLock` of @multiproc/sync is used as it is, `false` means no lock.
   */
  lock?: boolean | SynchronizedLock;
}

/**
 * Python's `multiprocessing.Value`: a number in shared memory. As in Python, `v.value += 1` is a
 * read and a write, not atomic: take its lock around it (or use `Atomics` on `getObj().view`).
 */
export class Value<T extends Typecode = Typecode> extends RawValue<T> {
  readonly #lock: SynchronizedLock | false;

  constructor(typecode: T, init: number | bigint = 0, options: ValueOptions = {}) {
    super(typecode, init);
    this.#lock = makeLock(checkLockOption(options, 'new Value(typecode, init, options)'), 'new Value(typecode, init, options)');
  }

  /** The lock that guards the value (Python's `get_lock()`); throws when it was made with `{ lock: false }`. */
  getLock(): SynchronizedLock {
    if (!this.#lock) throw new ProcessError(`${this.toString()} was made with { lock: false }: it has no lock`);
    return this.#lock;
  }

  /** The value without its lock (Python's `get_obj()`), over the same memory. */
  getObj(): RawValue<T> {
    return over(this.view, () => new RawValue(this.typecode));
  }

  override [reduce](): Reduced {
    return ['@multiproc/shared:Value', { typecode: this.typecode, view: this.view, lock: this.#lock }];
  }
}

function checkLockOption(options: unknown, where: string): boolean | SynchronizedLock {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) throw new TypeError(`${where}: options must be an object such as { lock: false }, got ${describeValue(options)}`);
  const { lock = true, ...rest } = options as ValueOptions;
  refuseUnknownOptions(rest, ['lock'], where);
  // A lock object exists only once @multiproc/sync is loaded, so asking its registered support suffices.
  if (typeof lock !== 'boolean' && !registeredLockSupport()?.isLock(lock)) {
    throw new TypeError(`${where}: lock must be true, false, or a Lock or RLock of @multiproc/sync, got ${describeValue(lock)}`);
  }
  return lock;
}

/** The lock made with the value, and the one that travels with it (its reduced state holds it). */
function makeLock(lock: boolean | SynchronizedLock, where: string): SynchronizedLock | false {
  return lock === true ? lockSupport(where).makeLock() : lock;
}

/**
 * Python's `sharedctypes.RawArray`: a typed array over shared memory (`Float64Array` for 'd', …),
 * zeroed when given a size, or holding a copy of an initializer. It (or any `subarray()` of it)
 * travels to other processes as a view of the same memory.
 */
export function RawArray<T extends Typecode>(typecode: T, sizeOrInitializer: number | ArrayLike<number | bigint> | Iterable<number | bigint>): TypedArrayFor<T> {
  return makeArray(typecode, sizeOrInitializer, 'RawArray(typecode, sizeOrInitializer)');
}

export type SynchronizedArray<T extends Typecode> = TypedArrayFor<T> & {
  /** The array without its lock (Python's `get_obj()`): a typed array over the same memory. */
  getObj(): TypedArrayFor<T>;
  /** The lock that guards the array (Python's `get_lock()`); throws when it was made with `{ lock: false }`. */
  getLock(): SynchronizedLock;
};

/**
 * Python's `multiprocessing.Array` (named so that importing it never shadows the global `Array`):
 * a `RawArray` with `getObj()` added, and a lock of its own unless `{ lock: false }`.
 */
export function SharedArray<T extends Typecode>(
  typecode: T,
  sizeOrInitializer: number | ArrayLike<number | bigint> | Iterable<number | bigint>,
  options: ValueOptions = {},
): SynchronizedArray<T> {
  const where = 'SharedArray(typecode, sizeOrInitializer, options)';
  const lock = makeLock(checkLockOption(options, where), where);
  return synchronized(makeArray(typecode, sizeOrInitializer, where), lock);
}

function synchronized<T extends Typecode>(array: TypedArrayFor<T>, lock: SynchronizedLock | false): SynchronizedArray<T> {
  const Type = array.constructor as new (b: ArrayBufferLike, o: number, n: number) => TypedArrayFor<T>;
  Object.defineProperty(array, 'getObj', { value: () => new Type(array.buffer, array.byteOffset, array.length) });
  Object.defineProperty(array, 'getLock', {
    value: () => {
      if (!lock) throw new ProcessError(`this SharedArray ('${array.constructor.name}' of ${array.length}) was made with { lock: false }: it has no lock`);
      return lock;
    },
  });
  decorate(array, '@multiproc/shared:SharedArray', { lock });
  return array as SynchronizedArray<T>;
}

function makeArray<T extends Typecode>(typecode: T, init: unknown, where: string): TypedArrayFor<T> {
  const Type = typeOf(typecode, where);
  const values = typeof init === 'number' ? null : initializer(init, where);
  const length = values ? values.length : checkCount(init, `${where}: size`, Math.floor(MAX_BYTES / Type.BYTES_PER_ELEMENT));
  // Checked before anything is mapped: a bad element maps nothing.
  const items = values?.map((v, i) => element(Type, v, `${where}: element ${i} of the initializer`));
  const { segment, byteOffset } = allocate(length * Type.BYTES_PER_ELEMENT);
  const array = new Type(segment.buffer, byteOffset, length) as TypedArrayFor<T>;
  if (items) (array as SharedTypedArray).set(items as any);
  return array;
}

function initializer(init: unknown, where: string): unknown[] {
  if (init !== null && typeof init === 'object') {
    if (typeof (init as any)[Symbol.iterator] === 'function') return Array.from(init as Iterable<unknown>);
    if (typeof (init as any).length === 'number') return Array.from(init as ArrayLike<unknown>);
  }
  throw new TypeError(`${where}: sizeOrInitializer must be a size (an integer ≥ 0) or an array of initial values, got ${describeValue(init)}`);
}

registerRebuilder('@multiproc/shared:RawValue', ({ typecode, view }) => over(view, () => new RawValue(typecode)));
registerRebuilder('@multiproc/shared:Value', ({ typecode, view, lock }) => over(view, () => new Value(typecode, 0, { lock })));
registerRebuilder('@multiproc/shared:SharedArray', ({ view, lock }) => synchronized(rebuildView(view), lock));
