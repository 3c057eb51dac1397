// Argument checks of the public functions: a TypeError or RangeError that names the function,
// the argument and what to pass. The addon checks again, tersely, so it never crashes.

const MAX_NAME = process.platform === 'darwin' ? 30 : 255;

function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (ArrayBuffer.isView(value)) return value.constructor.name;
  if (value !== null && typeof value === 'object') return value.constructor?.name ?? 'an object';
  return String(value);
}

function integer(fn: string, what: string, value: unknown, min: number, max: number, hint: string): void {
  if (typeof value !== 'number') throw new TypeError(`${fn}(): ${what} must be ${hint}, not ${show(value)}`);
  if (!Number.isInteger(value) || value < min || value > max) throw new RangeError(`${fn}(): ${what} must be ${hint}, not ${show(value)}`);
}

export function checkName(fn: string, name: unknown): void {
  if (typeof name !== 'string') throw new TypeError(`${fn}(): name must be a string, not ${show(name)}`);
  const bytes = Buffer.byteLength(name);
  if (bytes === 0 || bytes > MAX_NAME || name.includes('/') || name.includes('\0') || name === '.' || name === '..')
    throw new TypeError(`${fn}(): name must be 1 to ${MAX_NAME} bytes with no '/' or NUL (and not '.' or '..'), not ${show(name)}`);
}

export function checkFd(fn: string, fd: unknown): void {
  integer(fn, 'fd', fd, 0, 2 ** 31 - 1, 'a file descriptor (an integer from 0)');
}

export function checkSize(fn: string, size: unknown): void {
  integer(fn, 'size', size, 1, Number.MAX_SAFE_INTEGER, `a byte count from 1 to ${Number.MAX_SAFE_INTEGER}`);
}

export function checkBuffer(fn: string, buffer: unknown): void {
  if (!(buffer instanceof ArrayBuffer)) throw new TypeError(`${fn}(): buffer must be an ArrayBuffer returned by map(), not ${show(buffer)}`);
}

export function checkWord(fn: string, view: unknown, index: unknown): asserts view is Int32Array {
  if (!(view instanceof Int32Array)) throw new TypeError(`${fn}(): view must be an Int32Array over memory from map(), not ${show(view)}`);
  if (view.length === 0) throw new RangeError(`${fn}(): view is empty (its memory was unmapped, or it has length 0)`);
  integer(fn, 'index', index, 0, view.length - 1, `an integer from 0 to ${view.length - 1} (the view's length is ${view.length})`);
}

export function checkExpected(fn: string, expected: unknown): void {
  integer(fn, 'expected', expected, -(2 ** 31), 2 ** 31 - 1, 'a 32-bit signed integer');
}

/** Returns the timeout to pass on: negative counts as 0. */
export function checkTimeout(fn: string, ms: unknown): number {
  if (typeof ms !== 'number') throw new TypeError(`${fn}(): timeoutMs must be a number of milliseconds or Infinity, not ${show(ms)}`);
  if (Number.isNaN(ms)) throw new RangeError(`${fn}(): timeoutMs must be a number of milliseconds or Infinity, not NaN`);
  return ms < 0 ? 0 : ms;
}

export function checkCount(fn: string, count: unknown): void {
  if (count === Infinity) return;
  integer(fn, 'count', count, 0, Number.MAX_SAFE_INTEGER, 'an integer from 0, or Infinity for all');
}

export function checkFunction(fn: string, what: string, value: unknown): void {
  if (typeof value !== 'function') throw new TypeError(`${fn}(): ${what} must be a function, not ${show(value)}`);
}

export function checkExitCode(fn: string, code: unknown): void {
  integer(fn, 'code', code, 0, 255, 'an exit code (an integer from 0 to 255)');
}

export function checkPid(fn: string, pid: unknown): void {
  integer(fn, 'pid', pid, 1, 2 ** 31 - 1, 'a process id (an integer from 1)');
}
