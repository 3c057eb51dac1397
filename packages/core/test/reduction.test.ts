import { describe, expect, it } from 'vitest';
import { Empty, BufferTooShort, ProcessError } from '@multiproc/errors';
import { reduce, register, registerRebuilder, type RebuildContext, type TransferContext } from '@multiproc/core';
import { dumps, loads } from '@multiproc/core/internal';

const ctx: TransferContext & RebuildContext = {
  kind: 'message',
  duplicateForChild: () => {
    throw new Error('no handles here');
  },
  detachHandle: () => {
    throw new Error('no handles here');
  },
};
const roundTrip = <T>(v: T): T => loads(dumps(v, ctx), ctx) as T;

class Point {
  constructor(
    public x: number,
    public y: number,
  ) {}
  [reduce]() {
    return ['test:Point', [this.x, this.y]] as [string, unknown];
  }
}
registerRebuilder('test:Point', ([x, y]: number[]) => new Point(x, y));

class Foreign {
  secret = 41;
}
register(Foreign, (f) => ['test:Foreign', f.secret + 1]);
registerRebuilder('test:Foreign', (n: number) => Object.assign(new Foreign(), { secret: n }));

describe('the transfer protocol', () => {
  it('round-trips what structured clone carries, keeping shared references and cycles', () => {
    const shared = { s: 1 };
    const v: any = { a: [1, 'x', null, undefined, 2n], m: new Map([['k', shared]]), set: new Set([shared]), d: new Date(5), r: /x/g, b: Buffer.from('hi'), u: new Uint16Array([7]) };
    v.self = v;
    const out = roundTrip(v);
    expect(out.a).toEqual([1, 'x', null, undefined, 2n]);
    expect(out.m.get('k')).toBe([...out.set][0]);
    expect(out.self).toBe(out);
    expect(out.d).toEqual(new Date(5));
    expect(out.r.flags).toBe('g');
    expect(Buffer.from(out.b).toString()).toBe('hi');
    expect(out.u[0]).toBe(7);
  });

  it('rebuilds objects that declare [reduce], and classes taught with register()', () => {
    const p = new Point(1, 2);
    const out = roundTrip({ list: [p, p], f: new Foreign() });
    expect(out.list[0]).toBeInstanceOf(Point);
    expect(out.list[0]).toEqual(new Point(1, 2));
    expect(out.list[1]).toBe(out.list[0]);
    expect(out.f).toBeInstanceOf(Foreign);
    expect(out.f.secret).toBe(42);
  });

  it('keeps our errors their own class, BufferTooShort with its data; other errors keep message and stack', () => {
    const e = roundTrip({ empty: new Empty('none'), short: new BufferTooShort(Buffer.from('abc')), base: new ProcessError('p', { cause: 'why' }), range: new RangeError('r') });
    expect(e.empty).toBeInstanceOf(Empty);
    expect(e.empty.message).toBe('none');
    expect(e.empty.stack).toContain('reduction.test');
    expect(e.short).toBeInstanceOf(BufferTooShort);
    expect(e.short.data.toString()).toBe('abc');
    expect(e.base).toBeInstanceOf(ProcessError);
    expect(e.base.cause).toBe('why');
    expect(e.range).toBeInstanceOf(RangeError);
    expect(e.range.message).toBe('r');
  });

  it('refuses functions and symbols before writing anything, naming the path', () => {
    expect(() => dumps({ a: [{ f() {} }] }, ctx)).toThrow(/value\.a\[0\]\.f is a function \(f\)/);
    expect(() => dumps(new Map([[1, Symbol('s')]]), ctx)).toThrow(/is a symbol/);
    expect(() => dumps(Promise.resolve(), ctx)).toThrow(TypeError);
    expect(() => dumps({ list: [1, { p: Promise.resolve() }] }, ctx)).toThrow(/^value\.list\[1\]\.p \(Promise\) cannot be sent to another process: #<Promise> could not be cloned\. Values travel/);
  });

  it('says when nothing can rebuild a received object', () => {
    class Nobody {
      [reduce]() {
        return ['test-nobody', 1] as [string, unknown];
      }
    }
    expect(() => loads(dumps(new Nobody(), ctx), ctx)).toThrow(/no rebuilder is registered for 'test-nobody'/);
    class Packaged {
      [reduce]() {
        return ['@multiproc/not-installed:Thing', 1] as [string, unknown];
      }
    }
    expect(() => loads(dumps(new Packaged(), ctx), ctx)).toThrow(/its package @multiproc\/not-installed could not be loaded here/);
  });

  it('to another machine (ctx.remote), refuses what names something of this machine, and lets the rest through', () => {
    class Lock {
      [reduce]() {
        return ['@multiproc/sync:Lock', { view: 1 }] as [string, unknown];
      }
    }
    const remote = { ...ctx, remote: true };
    expect(() => dumps({ lock: new Lock() }, remote)).toThrow(/a Lock cannot be sent to another machine: it lives in this machine's memory or kernel/);
    expect(dumps({ lock: new Lock() }, ctx)).toBeInstanceOf(Buffer);
    expect(loads(dumps(new Point(1, 2), remote), ctx)).toEqual(new Point(1, 2));
    expect(loads(dumps(new ProcessError('x'), remote), ctx)).toBeInstanceOf(ProcessError);
  });

  it('checks register() and registerRebuilder() arguments', () => {
    expect(() => register('x' as any, () => ['a', 1])).toThrow(TypeError);
    expect(() => registerRebuilder('', () => 1)).toThrow(TypeError);
    expect(() => registerRebuilder('x', 1 as any)).toThrow(TypeError);
  });
});
