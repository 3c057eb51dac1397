import type { Socket } from 'node:net';
import type * as V8 from 'node:v8';
import { describe } from './timeout';

/**
 * The transfer protocol: how a value travels to another process (Python's `reduction`).
 *
 * Values go by structured clone (`v8.serialize`). An object that needs more than a copy of its
 * fields — a Connection owns a socket, a Queue an address — declares how it travels with a
 * `[reduce]` method returning `[rebuildId, state]`; the receiving process calls the rebuilder
 * registered under that id with the (cloned) state. Classes you don't own use `register()`.
 */
export const reduce = Symbol.for('multiproc.reduce');

export type Reduced = [rebuildId: string, state: unknown];
export type Reducer<T = any> = (obj: T, ctx: TransferContext) => Reduced;
export type Rebuilder = (state: any, ctx: RebuildContext) => unknown;

/** Where a value is going. The start-method backend or the channel supplies it. */
export interface TransferContext {
  /** 'spawn' while a child's start-up payload is written; 'message' for send()/put(). */
  readonly kind: 'spawn' | 'message';
  /**
   * Makes an OS handle available in the receiving process and returns a token for it
   * (Python's `DupFd`). How is the backend's business: a spare stdio slot at spawn, say. A
   * socket still being made is lent as a `LentHandle`: it follows when ready, and `sent()` is
   * called once it has left, so the sender keeps it open until then.
   */
  duplicateForChild(handle: Socket | LentHandle): unknown;
  /**
   * True when handles reach the child only after `start()` returned (over its IPC channel, as
   * with 'forkserver'): pass a LentHandle, so a copy closed meanwhile stays open until `sent()`.
   */
  readonly lateHandles?: boolean;
  /**
   * True when the value may reach another machine (through a server such as Redis): what lives
   * in this machine's kernel or memory (a Connection, a local Queue, shared memory, a lock) is
   * refused, since it would arrive as a name of nothing.
   */
  readonly remote?: boolean;
}

/** A socket that does not exist yet, passed to another process once it does. */
export interface LentHandle {
  socket: Promise<Socket>;
  sent(): void;
}

/** Where a value arrived. */
export interface RebuildContext {
  readonly kind: 'spawn' | 'message';
  /** The handle behind a token made by `duplicateForChild`, opened in this process. */
  detachHandle(token: unknown): Socket | Promise<Socket>;
}

interface Registry {
  reducers: Map<Function, Reducer>;
  /** Memory other processes can map (@multiproc/shared): a view of it travels as a view, not a copy. */
  buffers: WeakMap<ArrayBufferLike, BufferReducer>;
  /** Registered error classes with a brand-based `instanceof`: found even from another copy of their package. */
  brandedErrors: [Function, Reducer][];
  rebuilders: Map<string, Rebuilder>;
}

// Registered classes and rebuilders are per OS process, shared by every copy of this package.
const registry: Registry = ((globalThis as any)[Symbol.for('multiproc.core.reduction')] ??= {
  reducers: new Map(),
  buffers: new WeakMap(),
  brandedErrors: [],
  rebuilders: new Map(),
} satisfies Registry);

/** Teaches the protocol to send instances of a class you don't own. */
export function register<T>(cls: abstract new (...args: any[]) => T, reducer: Reducer<T>): void {
  if (typeof cls !== 'function') throw new TypeError(`register(cls, reducer): cls must be a class, got ${describe(cls)}`);
  if (typeof reducer !== 'function') throw new TypeError(`register(cls, reducer): reducer must be a function, got ${describe(reducer)}`);
  registry.reducers.set(cls, reducer);
  if (cls.prototype instanceof Error && Object.prototype.hasOwnProperty.call(cls, Symbol.hasInstance)) {
    registry.brandedErrors = registry.brandedErrors.filter(([c]) => c !== cls).concat([[cls, reducer]]);
  }
}

/** How a view of shared memory (or the buffer itself) travels; see `shareBuffer`. */
export type BufferReducer = (view: ArrayBufferView | ArrayBufferLike, ctx: TransferContext) => Reduced;

/**
 * Marks `buffer` as memory the receiving process can map: a typed array, DataView or Buffer over
 * it (or the buffer itself) then travels with `reducer` instead of being copied by structured clone.
 */
export function shareBuffer(buffer: ArrayBufferLike, reducer: BufferReducer): void {
  registry.buffers ??= new WeakMap(); // a registry made by an older copy of this package
  registry.buffers.set(buffer, reducer);
}

function bufferReducerOf(value: object): Reducer | undefined {
  const buffer = ArrayBuffer.isView(value) ? value.buffer : value;
  const r = registry.buffers?.get(buffer as ArrayBufferLike);
  return r && ((obj, ctx) => r(obj, ctx));
}

/**
 * Registers the function that rebuilds objects reduced under `id`. An id of the form
 * `'<package>:<name>'` lets a receiving process that has not loaded `<package>` yet load it on demand.
 */
export function registerRebuilder(id: string, rebuild: Rebuilder): void {
  if (typeof id !== 'string' || !id) throw new TypeError(`registerRebuilder(id, rebuild): id must be a non-empty string, got ${describe(id)}`);
  if (typeof rebuild !== 'function') throw new TypeError(`registerRebuilder(id, rebuild): rebuild must be a function, got ${describe(rebuild)}`);
  registry.rebuilders.set(id, rebuild);
}

// A reduced object travels as a plain object with this key; nothing else uses it.
const MARK = '__multiproc.reduced__';
const PLAIN = 0;
const HAS_REDUCED = 1;

/** What dumps() writes before the value: v8's header, then whether the value holds reduced objects. */
function writePrefix(ser: V8.DefaultSerializer, reduced: boolean): void {
  ser.writeHeader();
  ser.writeUint32(reduced ? HAS_REDUCED : PLAIN);
}

// node:v8 costs ~2 ms to load: loaded on the first message, not with the package.
let v8: typeof V8 | undefined;
const serializer = (): V8.DefaultSerializer => new (v8 ??= require('node:v8') as typeof V8).DefaultSerializer();

let prefix: Buffer | undefined;
/** The bytes before a value with nothing reduced in it, which fast-clone.ts writes and looks for. */
export function plainPrefix(): Buffer {
  if (prefix) return prefix;
  const ser = serializer();
  writePrefix(ser, false);
  return (prefix = ser.releaseBuffer());
}

function reducerOf(value: object): Reducer | undefined {
  if (opaque(value)) return bufferReducerOf(value);
  const own = (value as any)[reduce];
  if (typeof own === 'function') return (obj, ctx) => own.call(obj, ctx);
  for (let proto = Object.getPrototypeOf(value); proto; proto = Object.getPrototypeOf(proto)) {
    const r = registry.reducers.get(proto.constructor);
    if (r) return r;
  }
  if (value instanceof Error) {
    // Most derived first: the registry lists base classes before their subclasses.
    for (let i = registry.brandedErrors.length - 1; i >= 0; i--) {
      if (value instanceof (registry.brandedErrors[i][0] as any)) return registry.brandedErrors[i][1];
    }
  }
  return undefined;
}

const opaque = (v: object) => ArrayBuffer.isView(v) || v instanceof ArrayBuffer || v instanceof Date || v instanceof RegExp;

/**
 * First pass: does the graph hold anything to reduce? Throws a TypeError naming the path of the
 * first value structured clone cannot carry, so a bad send fails before anything is written.
 */
function needsReduction(value: unknown, seen: Set<object>, path: string): boolean {
  if (typeof value !== 'object' || value === null) {
    if (typeof value === 'function' || typeof value === 'symbol') throw uncloneable(value, path);
    return false;
  }
  if (seen.has(value)) return false;
  if (opaque(value)) return bufferReducerOf(value) !== undefined;
  seen.add(value);
  if (reducerOf(value)) return true;
  if (value instanceof Error) return false; // V8 serializes errors itself
  // Strings, numbers and the like need no visit (nor a path string each: big arrays are common).
  let found = false;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (!isLeaf(value[i])) found = needsReduction(value[i], seen, `${path}[${i}]`) || found;
  } else if (value instanceof Map) {
    for (const [k, v] of value) {
      if (!isLeaf(k)) found = needsReduction(k, seen, `${path}.<key>`) || found;
      if (!isLeaf(v)) found = needsReduction(v, seen, `${path}.get(…)`) || found;
    }
  } else if (value instanceof Set) {
    for (const v of value) if (!isLeaf(v)) found = needsReduction(v, seen, `${path}.<item>`) || found;
  } else {
    for (const k of Object.keys(value)) if (!isLeaf((value as any)[k])) found = needsReduction((value as any)[k], seen, `${path}.${k}`) || found;
  }
  return found;
}

/** A value structured clone copies as it is. */
function isLeaf(v: unknown): boolean {
  const t = typeof v;
  return t === 'number' || t === 'string' || t === 'boolean' || t === 'bigint' || v === null || v === undefined;
}

function uncloneable(value: unknown, path: string): TypeError {
  const what = typeof value === 'function' ? describe(value) : 'a symbol';
  return new TypeError(
    `${path} is ${what}, which cannot be sent to another process: values travel by structured clone ` +
      `(plain objects, arrays, Map, Set, Date, RegExp, BigInt, typed arrays, Buffers, Errors). ` +
      `Send data instead, or a module reference ({ module, export }) for code.`,
  );
}

// The library's own objects that name something on this machine: a socket, a local queue's broker, a
// segment of shared memory, a lock in it.
const LOCAL_ONLY = /^@multiproc\/(pipe|queue|shared|sync):/;

function localOnly(what: string): TypeError {
  return new TypeError(
    `${what} cannot be sent to another machine: it lives in this machine's memory or kernel. ` +
      `Send plain data, or a remote object (a RedisQueue) instead.`,
  );
}

/** Second pass, only when needed: a copy of the graph with reducible objects replaced by marks. */
function reduceGraph(value: unknown, ctx: TransferContext, memo: Map<object, unknown>): unknown {
  if (typeof value !== 'object' || value === null || (opaque(value) && !bufferReducerOf(value))) return value;
  if (memo.has(value)) return memo.get(value);
  const reducer = reducerOf(value);
  if (reducer) {
    const mark: Record<string, unknown> = {};
    memo.set(value, mark);
    if (ctx.remote && opaque(value)) throw localOnly('a view of shared memory');
    const [id, st] = reducer(value, ctx);
    if (ctx.remote && LOCAL_ONLY.test(id)) throw localOnly(`a ${(value as any).constructor?.name ?? id}`);
    mark[MARK] = id;
    mark.state = reduceGraph(st, ctx, memo);
    return mark;
  }
  if (value instanceof Error) return value;
  if (Array.isArray(value)) {
    const out: unknown[] = new Array(value.length);
    memo.set(value, out);
    for (let i = 0; i < value.length; i++) out[i] = reduceGraph(value[i], ctx, memo);
    return out;
  }
  if (value instanceof Map) {
    const out = new Map();
    memo.set(value, out);
    for (const [k, v] of value) out.set(reduceGraph(k, ctx, memo), reduceGraph(v, ctx, memo));
    return out;
  }
  if (value instanceof Set) {
    const out = new Set();
    memo.set(value, out);
    for (const v of value) out.add(reduceGraph(v, ctx, memo));
    return out;
  }
  const out: Record<string, unknown> = {};
  memo.set(value, out);
  for (const k of Object.keys(value)) out[k] = reduceGraph((value as any)[k], ctx, memo);
  return out;
}

/** Serializes `value` for another process. Throws a TypeError, having written nothing, if it can't. */
export function dumps(value: unknown, ctx: TransferContext, path = 'value'): Buffer {
  const reduced = needsReduction(value, new Set(), path);
  const ser = serializer();
  writePrefix(ser, reduced);
  try {
    ser.writeValue(reduced ? reduceGraph(value, ctx, new Map()) : value);
  } catch (err) {
    const where = findUncloneable(value, path, new Set()) ?? path;
    throw new TypeError(
      `${where} cannot be sent to another process: ${(err as Error).message.replace(/\.$/, "")}. Values travel by structured clone; send plain data instead.`,
      { cause: err },
    );
  }
  return ser.releaseBuffer();
}

/** On the error path only: the deepest object that V8's serializer refuses, as a path. */
function findUncloneable(value: unknown, path: string, seen: Set<object>): string | null {
  if (typeof value !== 'object' || value === null || seen.has(value) || reducerOf(value)) return null;
  seen.add(value);
  const entries: [string, unknown][] = Array.isArray(value)
    ? value.map((v, i) => [`${path}[${i}]`, v])
    : value instanceof Map
      ? [...value].map(([k, v]) => [`${path}.get(${typeof k === 'object' ? '…' : String(k)})`, v])
      : value instanceof Set
        ? [...value].map((v) => [`${path}.<item>`, v])
        : Object.keys(value).map((k) => [`${path}.${k}`, (value as any)[k]]);
  for (const [p, v] of entries) {
    const deeper = findUncloneable(v, p, seen);
    if (deeper) return deeper;
  }
  try {
    serializer().writeValue(value);
    return null;
  } catch {
    return `${path} (${(value as object).constructor?.name ?? 'object'})`;
  }
}

/** Reads a value written by `dumps`, rebuilding reduced objects. */
export function loads(buf: Uint8Array, ctx: RebuildContext): unknown {
  const des = new (v8 ??= require('node:v8') as typeof V8).DefaultDeserializer(buf as Buffer);
  des.readHeader();
  const flags = des.readUint32();
  const value = des.readValue();
  return flags === HAS_REDUCED ? rebuildGraph(value, ctx, new Map()) : value;
}

function rebuildGraph(value: unknown, ctx: RebuildContext, memo: Map<object, unknown>): unknown {
  if (typeof value !== 'object' || value === null || opaque(value)) return value;
  if (memo.has(value)) return memo.get(value);
  if (Object.prototype.hasOwnProperty.call(value, MARK)) {
    const { [MARK]: id, state: st } = value as any;
    const obj = rebuilderFor(id)(rebuildGraph(st, ctx, memo), ctx);
    memo.set(value, obj);
    return obj;
  }
  memo.set(value, value);
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = rebuildGraph(value[i], ctx, memo);
  } else if (value instanceof Map) {
    const entries = [...value].map(([k, v]) => [rebuildGraph(k, ctx, memo), rebuildGraph(v, ctx, memo)] as const);
    value.clear();
    for (const [k, v] of entries) value.set(k, v);
  } else if (value instanceof Set) {
    const items = [...value].map((v) => rebuildGraph(v, ctx, memo));
    value.clear();
    for (const v of items) value.add(v);
  } else {
    for (const k of Object.keys(value)) (value as any)[k] = rebuildGraph((value as any)[k], ctx, memo);
  }
  return value;
}

function rebuilderFor(id: string): Rebuilder {
  let rebuild = registry.rebuilders.get(id);
  const pkg = id.includes(':') ? id.slice(0, id.lastIndexOf(':')) : null;
  if (!rebuild && pkg) {
    // The package that made the object registers its rebuilders when loaded.
    try {
      require(pkg);
    } catch (err) {
      throw new TypeError(`cannot rebuild a received ${id}: its package ${pkg} could not be loaded here (${(err as Error).message})`, { cause: err });
    }
    rebuild = registry.rebuilders.get(id);
  }
  if (!rebuild) throw new TypeError(`cannot rebuild a received object: no rebuilder is registered for '${id}' in this process`);
  return rebuild;
}
