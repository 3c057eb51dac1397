import { defineErrorClass } from './brand';
import { ProcessError } from './process-error';

/** Thrown by `put()` of a queue that holds `maxsize` items (Python's `queue.Full`). */
export class Full extends ProcessError {}
defineErrorClass(Full, 'Full');
