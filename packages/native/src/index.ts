/**
 * The native base of `@multiproc/shared` and `@multiproc/sync`: what JavaScript cannot do alone.
 * Shared memory segments (named, or unnamed and handed over as a file descriptor), mapped as an
 * `ArrayBuffer` on which `Atomics` work across processes, and a wait/wake on a 32-bit word of
 * that memory that works across processes (`Atomics.wait`/`notify` do not: V8's waiter list is
 * per process). Every algorithm on top (locks, events, values) is TypeScript over `Atomics`.
 *
 * Where the addon has no binary for the platform, importing this package still works,
 * {@link loadError} says why, and every other function throws a `ProcessError` with that text.
 *
 * @module @multiproc/native
 */
import { ProcessError } from '@multiproc/errors';
import { type Binding, loadBinding } from './binding';
import { checkBuffer, checkCount, checkExitCode, checkExpected, checkFd, checkFunction, checkName, checkPid, checkSize, checkTimeout, checkWord } from './validate';

/** How a wait ended: woken (or spuriously: re-check the word), the word did not hold `expected`, or the timeout passed. */
export type WaitResult = 'ok' | 'not-equal' | 'timed-out';
/** How an async wait ended: as {@link WaitResult}, or `'cancelled'` by its handle. */
export type AsyncWaitResult = WaitResult | 'cancelled';
/** A pending {@link waitAsync}. */
export interface WaitHandle {
  /**
   * Settles the wait with `'cancelled'` promptly, unless it settled already (then a no-op). It wakes
   * every waiter on the word, in every process, to reach the thread parked in the kernel: those see
   * a spurious `'ok'` and must re-check the word, as every futex user must.
   */
  cancel(): void;
}

const RESULTS: readonly AsyncWaitResult[] = ['ok', 'not-equal', 'timed-out', 'cancelled'];

const loaded: Binding | Error = loadBinding();

function native(): Binding {
  if (loaded instanceof Error) throw new ProcessError(loaded.message, { cause: loaded.cause });
  return loaded;
}

/** `null` when the native binary loaded; otherwise an Error naming the platform and what to do. */
export function loadError(): Error | null {
  return loaded instanceof Error ? loaded : null;
}

/**
 * Opens the named shared memory segment `name` (no `/`; at most 255 bytes, 30 on macOS) and
 * returns a file descriptor for it (close-on-exec). `'create'` makes a new, empty one (mode 0600)
 * and throws an Error with code `EEXIST` naming it if it exists; `'attach'` opens an existing one
 * and throws with code `ENOENT` if there is none. Size a new segment with `fs.ftruncateSync(fd, n)`,
 * read its size with `fs.fstatSync(fd).size`, and close the fd with `fs.closeSync` once mapped.
 * The segment lives (in /dev/shm on Linux) until {@link shmUnlink}, even after every process ends.
 */
export function shmOpen(name: string, mode: 'create' | 'attach'): number {
  const b = native();
  checkName('shmOpen', name);
  if (mode !== 'create' && mode !== 'attach') throw new TypeError(`shmOpen(): mode must be 'create' or 'attach', not ${show(mode)}`);
  return b.shmOpen(name, mode === 'create');
}

/** Removes the name of a segment; mappings and fds of it stay valid. Throws with code `ENOENT` when there is none. */
export function shmUnlink(name: string): void {
  const b = native();
  checkName('shmUnlink', name);
  b.shmUnlink(name);
}

/**
 * Creates a segment with no name anywhere (Linux: `memfd_create`; nothing appears in /dev/shm) and
 * returns its fd (close-on-exec). It is freed when the last fd and mapping of it are gone. Another
 * process gets it as an fd passed at spawn (a `stdio` slot), or on Linux by opening
 * `/proc/<pid>/fd/<fd>` of a process that holds it open.
 */
export function anonymous(): number {
  return native().anonymous();
}

/**
 * Maps bytes `[0, size)` of the segment `fd` (shared: every process mapping it sees the same
 * memory) and returns them as an `ArrayBuffer`; `Atomics` on an `Int32Array` or `BigInt64Array`
 * over it are atomic across processes. The fd may be closed afterwards. The memory is unmapped
 * when the buffer is garbage-collected, or at once by {@link unmap}. `size` must be at least 1 and
 * at most the segment's size (a RangeError otherwise: touching memory past the end of a segment
 * would kill the process). Throws a `ProcessError` where the runtime refuses external
 * `ArrayBuffer`s (a V8 memory sandbox, as in Electron).
 */
export function map(fd: number, size: number): ArrayBuffer {
  const b = native();
  checkFd('map', fd);
  checkSize('map', size);
  try {
    return b.map(fd, size);
  } catch (err) {
    if ((err as { code?: unknown }).code === 'ERR_MULTIPROC_NO_EXTERNAL_BUFFERS') throw new ProcessError((err as Error).message);
    throw err;
  }
}

/**
 * Python's `SharedMemory.close()`: unmaps the memory now and detaches `buffer`, so every view over
 * it reads length 0 (instead of touching unmapped memory). A pending {@link waitAsync} on it keeps
 * the memory mapped until it settles. A second call does nothing.
 */
export function unmap(buffer: ArrayBuffer): void {
  const b = native();
  checkBuffer('unmap', buffer);
  b.unmap(buffer);
}

/**
 * Blocks the calling thread while `view[index]` holds `expected`, until {@link wake} on that word
 * from any process, or `timeoutMs` milliseconds (`Infinity`: no limit; negative counts as 0).
 * Milliseconds, as `Atomics.wait` (the packages on top take Python's seconds). `view` is an
 * `Int32Array` over memory from {@link map}. `'ok'` may be spurious: re-check the word.
 */
export function wait(view: Int32Array, index: number, expected: number, timeoutMs: number = Infinity): WaitResult {
  const b = native();
  checkWord('wait', view, index);
  checkExpected('wait', expected);
  return RESULTS[b.wait(view, index, expected, checkTimeout('wait', timeoutMs))] as WaitResult;
}

/** Wakes up to `count` waiters (`Infinity`: all) on `view[index]`, in every process; returns how many woke. */
export function wake(view: Int32Array, index: number, count: number = Infinity): number {
  const b = native();
  checkWord('wake', view, index);
  checkCount('wake', count);
  return b.wake(view, index, count);
}

/**
 * The same wait as {@link wait} without blocking: a thread of the addon's own waits, and `done`
 * is called on this thread with the result. A pending wait keeps the process alive. Errors thrown
 * by `done` are uncaught exceptions.
 */
export function waitAsync(
  view: Int32Array,
  index: number,
  expected: number,
  timeoutMs: number,
  done: (result: AsyncWaitResult) => void,
): WaitHandle {
  const b = native();
  checkWord('waitAsync', view, index);
  checkExpected('waitAsync', expected);
  const ms = checkTimeout('waitAsync', timeoutMs);
  checkFunction('waitAsync', 'done', done);
  let settled = false;
  let retry: NodeJS.Timeout | undefined;
  const id = b.waitAsync(view, index, expected, ms, (code) => {
    settled = true;
    if (retry) clearInterval(retry);
    done(RESULTS[code]);
  });
  return {
    cancel() {
      if (settled || retry) return;
      b.cancel(id);
      // A cancel that lands just before the thread enters the kernel is missed: wake again until it settles.
      retry = setInterval(() => b.cancel(id), 1);
      retry.unref();
    },
  };
}

/**
 * When process `pid` started (Linux: clock ticks since boot; macOS: microseconds since the epoch),
 * or `null` when there is no such process or it has exited (a zombie not yet reaped counts as
 * exited). A lock stores (pid, start time) to tell a dead owner, and a new process that reused its
 * pid, from a live one.
 */
export function processStartTime(pid: number): bigint | null {
  const b = native();
  checkPid('processStartTime', pid);
  return b.processStartTime(pid);
}

/**
 * Ends this process at once with `code` (0–255), as C's `_exit` and Python's `os._exit`: no
 * 'exit' listeners, no Node teardown (which takes ~1 ms and can hang: nodejs/node#54918).
 * Whatever this process still had to write or flush is lost: call it last, from an 'exit' listener
 * or after `process.emit('exit')`. multiproc's children end this way after their own exit.
 */
export function exitNow(code: number): never {
  const b = native();
  checkExitCode('exitNow', code);
  return b.exitNow(code);
}

function show(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}
