import { defineErrorClass } from './brand';

/** The base class of every multiproc error (Python's `multiprocessing.ProcessError`). */
export class ProcessError extends Error {}
defineErrorClass(ProcessError, 'ProcessError');
