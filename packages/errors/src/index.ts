/**
 * The error classes, with Python's names: `ProcessError` and the ones that derive from it, and
 * `Empty`/`Full` for queues.
 *
 * @module @multiproc/errors
 */
export { ProcessError } from './process-error';
export { BufferTooShort } from './buffer-too-short';
export { AuthenticationError } from './authentication-error';
export { TimeoutError } from './timeout-error';
export { EOFError } from './eof-error';
export { Empty } from './empty';
export { Full } from './full';
export { BrokenBarrierError } from './broken-barrier-error';
