export { ProcessError } from './process-error';
export { BufferTooShort } from './buffer-too-short';
export { AuthenticationError } from './authentication-error';
export { TimeoutError } from './timeout-error';
export { EOFError } from './eof-error';
export { Empty } from './empty';
export { Full } from './full';
