import { defineErrorClass } from './brand';
import { ProcessError } from './process-error';

/** Thrown by a receive on a connection whose peer closed it and whose data is drained. */
export class EOFError extends ProcessError {}
defineErrorClass(EOFError, 'EOFError');
