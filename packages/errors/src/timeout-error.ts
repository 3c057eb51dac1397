import { defineErrorClass } from './brand';
import { ProcessError } from './process-error';

/** Raised when a method with a timeout runs out of time (Python's `multiprocessing.TimeoutError`). */
export class TimeoutError extends ProcessError {}
defineErrorClass(TimeoutError, 'TimeoutError');
