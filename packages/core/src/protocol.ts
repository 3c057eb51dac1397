import type { PrepData } from './popen/popen';

/** The first message on a child's channel: everything it needs to become the Process. */
export interface BootstrapMessage {
  multiproc: 'bootstrap';
  prep: PrepData;
  /** `dumps()` of { args, kwargs, fields }, read after the target's module is imported. */
  object: Uint8Array;
}

export function isBootstrapMessage(m: unknown): m is BootstrapMessage {
  return typeof m === 'object' && m !== null && (m as any).multiproc === 'bootstrap';
}
