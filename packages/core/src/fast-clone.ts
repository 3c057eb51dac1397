import { loads, plainPrefix, reduce, type RebuildContext } from './reduction';

/**
 * A fast path for the common message: plain data. It writes (and reads) the very bytes format
 * of `dumps()` — the v8 serializer's wire format behind dumps' prefix — for a subset of
 * values: null, undefined, booleans, numbers, Latin-1 strings, plain objects with non-index
 * string keys, and dense arrays, without repeated objects. Anything else (Map, Date, Buffers,
 * Errors, reducible objects, BigInt, other strings, shared references, cycles) makes the
 * encoder give up and `dumps()` does the job; the decoder likewise hands anything it does not
 * know to `loads()`. A send of a small object costs ~0.2 µs here instead of ~2 µs through
 * `v8.Serializer` (whose per-call setup and `releaseBuffer` dominate for small values), and the
 * receive side likewise. Both directions are checked against v8 in test/fast-clone.test.ts.
 */

// v8 serialization tags (v8/src/objects/value-serializer.cc).
const T_PADDING = 0x00;
const T_UNDEFINED = 0x5f; // _
const T_NULL = 0x30; // 0
const T_TRUE = 0x54; // T
const T_FALSE = 0x46; // F
const T_INT32 = 0x49; // I
const T_DOUBLE = 0x4e; // N
const T_ONE_BYTE = 0x22; // "
const T_TWO_BYTE = 0x63; // c
const T_UTF8 = 0x53; // S
const T_OBJECT = 0x6f; // o
const T_END_OBJECT = 0x7b; // {
const T_DENSE = 0x41; // A
const T_END_DENSE = 0x24; // $

const GIVE_UP = Symbol('give up');
const LONG_ARRAY = 256;
const LONG_MESSAGE = 4096;
const INDEX = /^(?:0|[1-9]\d*)$/;
/** Whether `k` is an array index key; most keys are rejected on their first character, without the regex. */
const isIndex = (k: string): boolean => {
  const c = k.charCodeAt(0);
  return c >= 0x30 && c <= 0x39 && INDEX.test(k);
};
const MAX_OBJECTS = 64;

class Encoder {
  buf = Buffer.allocUnsafeSlow(64 * 1024);
  pos = 0;
  /** The objects met so far (a shared one makes it give up): `seen[0..count)`. */
  seen: object[] = [];
  count = 0;

  byte(b: number): void {
    if (this.pos >= this.buf.length) throw GIVE_UP;
    this.buf[this.pos++] = b;
  }

  varint(n: number): void {
    while (n >= 0x80) {
      this.byte((n & 0x7f) | 0x80);
      n >>>= 7;
    }
    this.byte(n);
  }

  string(s: string): void {
    const n = s.length;
    this.byte(T_ONE_BYTE);
    this.varint(n);
    if (this.pos + n > this.buf.length) throw GIVE_UP;
    const buf = this.buf;
    const at = this.pos;
    // Short strings (keys, mostly) are copied here: a call into C++ costs more than the loop.
    if (n <= 32) {
      for (let i = 0; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c > 0xff) throw GIVE_UP;
        buf[at + i] = c;
      }
      this.pos = at + n;
      return;
    }
    for (let i = 0; i < n; i++) if (s.charCodeAt(i) > 0xff) throw GIVE_UP;
    this.pos += buf.write(s, at, 'latin1');
  }

  value(v: unknown): void {
    switch (typeof v) {
      case 'number':
        if ((v | 0) === v && !Object.is(v, -0)) {
          this.byte(T_INT32);
          this.varint(((v << 1) ^ (v >> 31)) >>> 0);
        } else {
          this.byte(T_DOUBLE);
          if (this.pos + 8 > this.buf.length) throw GIVE_UP;
          this.pos = this.buf.writeDoubleLE(v, this.pos);
        }
        return;
      case 'string':
        return this.string(v);
      case 'boolean':
        return this.byte(v ? T_TRUE : T_FALSE);
      case 'undefined':
        return this.byte(T_UNDEFINED);
      case 'object':
        if (v === null) return this.byte(T_NULL);
        if (this.count >= MAX_OBJECTS) throw GIVE_UP;
        for (let i = 0; i < this.count; i++) if (this.seen[i] === v) throw GIVE_UP;
        this.seen[this.count++] = v;
        if (Array.isArray(v)) return this.array(v);
        if (Object.getPrototypeOf(v) !== Object.prototype || (v as any)[reduce] !== undefined) throw GIVE_UP;
        return this.object(v as Record<string, unknown>);
      default:
        throw GIVE_UP;
    }
  }

  array(a: unknown[]): void {
    if (Object.getPrototypeOf(a) !== Array.prototype) throw GIVE_UP;
    const n = a.length;
    // Long arrays are v8's: its serializer is faster there, and this check allocates a key per element.
    if (n > LONG_ARRAY || Object.keys(a).length !== n) throw GIVE_UP; // holes or extra properties
    this.byte(T_DENSE);
    this.varint(n);
    for (let i = 0; i < n; i++) this.value(a[i]);
    this.byte(T_END_DENSE);
    this.varint(0);
    this.varint(n);
  }

  object(o: Record<string, unknown>): void {
    this.byte(T_OBJECT);
    let count = 0;
    for (const k in o) {
      if (!Object.prototype.hasOwnProperty.call(o, k)) throw GIVE_UP; // inherited enumerable
      if (isIndex(k)) throw GIVE_UP; // v8 writes index keys as numbers, first
      const d = Object.getOwnPropertyDescriptor(o, k)!;
      if (!('value' in d)) throw GIVE_UP; // accessors: v8 calls getters, leave that to it
      this.string(k);
      this.value(d.value);
      count++;
    }
    this.byte(T_END_OBJECT);
    this.varint(count);
  }
}

const encoder = new Encoder();

/**
 * Serializes `value` as `dumps(value, ctx)` would be read by `loads()`, writing into a shared
 * scratch buffer: returns a view valid until the next call, or null when the value is not plain
 * data (the caller then uses dumps).
 */
export function encodePlain(value: unknown): Buffer | null {
  const pre = plainPrefix();
  const e = encoder;
  for (let i = 0; i < pre.length; i++) e.buf[i] = pre[i]; // 2-3 bytes: a loop costs less than copy()
  e.pos = pre.length;
  try {
    e.value(value);
  } catch (err) {
    if (err === GIVE_UP) return null;
    throw err;
  } finally {
    // Not `seen.length = 0`: setting an array's length is a call into the runtime.
    for (let i = 0; i < e.count; i++) e.seen[i] = undefined!;
    e.count = 0;
  }
  return e.buf.subarray(0, e.pos);
}

/**
 * Object keys decoded lately, by a hash of their bytes. Messages repeat a few keys: a key found
 * here costs a byte compare, not a new string (a call into C++) that v8 then looks up in its
 * string table to use it as a property name.
 */
const KEYS = 256;
const MAX_KEY = 32;
const keys: string[] = new Array<string>(KEYS).fill('');

class Decoder {
  buf!: Buffer;
  pos = 0;

  key(): unknown {
    const buf = this.buf;
    // A one-byte string of at most MAX_KEY bytes (its length is then one varint byte); others as values.
    if (this.pos + 1 >= buf.length || buf[this.pos] !== T_ONE_BYTE || buf[this.pos + 1] > MAX_KEY) return this.value();
    const n = buf[this.pos + 1];
    const at = this.pos + 2;
    if (at + n > buf.length) throw GIVE_UP;
    let h = n;
    for (let i = 0; i < n; i++) h = (h * 31 + buf[at + i]) | 0;
    const slot = h & (KEYS - 1);
    let k = keys[slot];
    let same = k.length === n;
    for (let i = 0; same && i < n; i++) same = k.charCodeAt(i) === buf[at + i];
    if (!same) keys[slot] = k = buf.toString('latin1', at, at + n);
    this.pos = at + n;
    return k;
  }

  varint(): number {
    let n = 0;
    // A multiplier, not 2 ** shift: a variable power is a call to pow() per byte.
    let scale = 1;
    for (;;) {
      if (this.pos >= this.buf.length) throw GIVE_UP;
      const b = this.buf[this.pos++];
      n += (b & 0x7f) * scale;
      if (b < 0x80) return n;
      scale *= 0x80;
      if (scale > 2 ** 28) throw GIVE_UP;
    }
  }

  value(): unknown {
    if (this.pos >= this.buf.length) throw GIVE_UP;
    const tag = this.buf[this.pos++];
    switch (tag) {
      case T_INT32: {
        const z = this.varint();
        return (z >>> 1) ^ -(z & 1);
      }
      case T_ONE_BYTE: {
        const n = this.varint();
        if (this.pos + n > this.buf.length) throw GIVE_UP;
        const s = this.buf.toString('latin1', this.pos, this.pos + n);
        this.pos += n;
        return s;
      }
      case T_TWO_BYTE: {
        const n = this.varint();
        if (this.pos + n > this.buf.length || n & 1) throw GIVE_UP;
        const s = this.buf.toString('utf16le', this.pos, this.pos + n);
        this.pos += n;
        return s;
      }
      case T_UTF8: {
        const n = this.varint();
        if (this.pos + n > this.buf.length) throw GIVE_UP;
        const s = this.buf.toString('utf8', this.pos, this.pos + n);
        this.pos += n;
        return s;
      }
      case T_OBJECT: {
        const o: Record<string, unknown> = {};
        let count = 0;
        for (;;) {
          if (this.pos >= this.buf.length) throw GIVE_UP;
          if (this.buf[this.pos] === T_END_OBJECT) {
            this.pos++;
            if (this.varint() !== count) throw GIVE_UP;
            return o;
          }
          const k = this.key();
          if (typeof k !== 'string' || k === '__proto__') throw GIVE_UP;
          o[k] = this.value();
          count++;
        }
      }
      case T_DENSE: {
        const n = this.varint();
        if (n > this.buf.length - this.pos) throw GIVE_UP;
        const a = new Array(n);
        for (let i = 0; i < n; i++) {
          if (this.buf[this.pos] === 0x2d /* '-' the hole */) throw GIVE_UP;
          a[i] = this.value();
        }
        if (this.buf[this.pos++] !== T_END_DENSE || this.varint() !== 0 || this.varint() !== n) throw GIVE_UP;
        return a;
      }
      case T_DOUBLE: {
        if (this.pos + 8 > this.buf.length) throw GIVE_UP;
        const d = this.buf.readDoubleLE(this.pos);
        this.pos += 8;
        return d;
      }
      case T_NULL:
        return null;
      case T_UNDEFINED:
        return undefined;
      case T_TRUE:
        return true;
      case T_FALSE:
        return false;
      case T_PADDING:
        return this.value();
      default:
        throw GIVE_UP;
    }
  }
}

const decoder = new Decoder();

/** A byte loop: Buffer#compare validates its five arguments, which costs more than the 2-3 bytes compared. */
function startsWith(data: Buffer, start: number, pre: Buffer): boolean {
  for (let i = 0; i < pre.length; i++) if (data[start + i] !== pre[i]) return false;
  return true;
}

/** `loads(data, ctx)` of the bytes from `start` on, decoding plain data in JavaScript and the rest through v8. */
export function decode(data: Buffer, ctx: RebuildContext, start = 0): unknown {
  const pre = plainPrefix();
  const length = data.length - start;
  // Big messages are v8's to decode: its deserializer is faster there.
  if (length > pre.length && length <= LONG_MESSAGE && startsWith(data, start, pre)) {
    const d = decoder;
    d.buf = data;
    d.pos = start + pre.length;
    try {
      const v = d.value();
      if (d.pos === data.length) return v;
    } catch (err) {
      if (err !== GIVE_UP) throw err;
    } finally {
      d.buf = null!;
    }
  }
  return loads(start === 0 ? data : data.subarray(start), ctx);
}
