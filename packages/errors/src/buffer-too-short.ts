import { defineErrorClass } from './brand';
import { ProcessError } from './process-error';

/**
 * Thrown by `Connection.recvBytesInto()` when the message does not fit the buffer. `data` holds
 * the complete message, so nothing is lost (Python's `e.args[0]`).
 */
export class BufferTooShort extends ProcessError {
  readonly data: Buffer;
  constructor(data: Buffer, message = `the buffer is too short for a message of ${data.length} bytes; the whole message is in error.data`) {
    super(message);
    this.data = data;
  }
}
defineErrorClass(BufferTooShort, 'BufferTooShort');
