import { defineErrorClass } from './brand';
import { ProcessError } from './process-error';

/** Raised by `Barrier.wait()` when the barrier is broken (aborted, reset, or a waiter timed out), as Python's `threading.BrokenBarrierError`. */
export class BrokenBarrierError extends ProcessError {}
defineErrorClass(BrokenBarrierError, 'BrokenBarrierError');
