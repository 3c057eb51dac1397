import { defineErrorClass } from './brand';
import { ProcessError } from './process-error';

/** Raised when the challenge-response (HMAC) authentication of a Listener/Client connection fails. */
export class AuthenticationError extends ProcessError {}
defineErrorClass(AuthenticationError, 'AuthenticationError');
