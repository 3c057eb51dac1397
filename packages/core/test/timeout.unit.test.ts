// Parsing what a wait is given (timeout.ts): seconds, { timeout, signal }, and the errors.
import { describe, expect, it } from 'vitest';
import { abortError, describe as describeValue, secondsToMs, waitOptions } from '../src/timeout';

describe('secondsToMs', () => {
  it('seconds to milliseconds; null, undefined and Infinity are no limit; negatives are 0', () => {
    expect([secondsToMs(1.5), secondsToMs(0), secondsToMs(-3), secondsToMs(-0)]).toEqual([1500, 0, 0, 0]);
    expect([secondsToMs(null), secondsToMs(undefined), secondsToMs(Infinity)]).toEqual([null, null, null]);
    expect(secondsToMs(-Infinity)).toBe(0);
  });

  it.each([['1'], [NaN], [{}], [true], [1n]])('refuses %s with a TypeError naming the argument', (bad) => {
    expect(() => secondsToMs(bad, 'join(): timeout')).toThrow(TypeError);
    expect(() => secondsToMs(bad, 'join(): timeout')).toThrow(/^join\(\): timeout must be a number of seconds or null \(no limit\), got /);
  });
});

describe('waitOptions', () => {
  const signal = new AbortController().signal;

  it('takes seconds or { timeout, signal }', () => {
    expect(waitOptions(2, 'get()')).toEqual({ ms: 2000, signal: undefined });
    expect(waitOptions(undefined, 'get()')).toEqual({ ms: null, signal: undefined });
    expect(waitOptions(null, 'get()')).toEqual({ ms: null, signal: undefined });
    expect(waitOptions({}, 'get()')).toEqual({ ms: null, signal: undefined });
    expect(waitOptions({ timeout: 0.25, signal }, 'get()')).toEqual({ ms: 250, signal });
    expect(waitOptions({ timeout: null, signal: undefined }, 'get()')).toEqual({ ms: null, signal: undefined });
  });

  it('refuses unknown options, a signal that is not an AbortSignal, a bad timeout', () => {
    expect(() => waitOptions({ timout: 1 }, 'get()')).toThrow(new TypeError("get(): unknown option 'timout'; the options are timeout and signal"));
    expect(() => waitOptions({ a: 1, b: 2 }, 'get()')).toThrow(/unknown option 'a', 'b'/);
    expect(() => waitOptions({ signal: {} }, 'get()')).toThrow(new TypeError('get(): signal must be an AbortSignal, got an object (Object)'));
    expect(() => waitOptions({ timeout: '1' }, 'get()')).toThrow(/^get\(\): timeout must be a number of seconds/);
    expect(() => waitOptions('1', 'get()')).toThrow(TypeError);
    expect(() => waitOptions([1], 'get()')).toThrow(TypeError);
  });
});

describe('abortError and describe', () => {
  it("abortError is Node's AbortError, with the signal's reason as its cause", () => {
    const c = new AbortController();
    c.abort('why');
    const err = abortError(c.signal);
    expect([err.name, (err as NodeJS.ErrnoException).code, err.cause, err.message]).toEqual(['AbortError', 'ABORT_ERR', 'why', 'The operation was aborted']);
  });

  it('describe names a value for an error message', () => {
    expect(describeValue(null)).toBe('null');
    expect(describeValue([1])).toBe('an array');
    expect(describeValue(function named() {})).toBe('a function (named)');
    expect(describeValue(new Map())).toBe('an object (Map)');
    expect(describeValue(Object.create(null))).toBe('an object (no prototype)');
    expect(describeValue('x'.repeat(50))).toBe(`the string "${'x'.repeat(40)}…"`);
    expect(describeValue(3)).toBe('number 3');
  });
});
