// The one error for an unknown option (options.ts), and its shape at each caller.
import { describe, expect, it } from 'vitest';
import { refuseUnknownOptions } from '../src/options';

describe('refuseUnknownOptions', () => {
  it('passes when nothing is left over', () => {
    expect(() => refuseUnknownOptions({}, ['a'], 'f()')).not.toThrow();
  });

  it('names every unknown option and lists the known ones', () => {
    expect(() => refuseUnknownOptions({ x: 1 }, ['signal'], 'accept(options)')).toThrow(
      new TypeError("accept(options): unknown option 'x'; the only option is signal"),
    );
    expect(() => refuseUnknownOptions({ x: 1, y: undefined }, ['spares', 'idleTimeout'], 'setForkserverOptions(options)')).toThrow(
      new TypeError("setForkserverOptions(options): unknown option 'x', 'y'; the options are spares and idleTimeout"),
    );
    expect(() => refuseUnknownOptions({ z: 0 }, ['block', 'timeout', 'signal'], 'get()')).toThrow(
      new TypeError("get(): unknown option 'z'; the options are block, timeout and signal"),
    );
  });
});
