import { defineErrorClass } from './brand';
import { ProcessError } from './process-error';

/** Thrown by `get()` of a queue with nothing available (Python's `queue.Empty`). */
export class Empty extends ProcessError {}
defineErrorClass(Empty, 'Empty');
