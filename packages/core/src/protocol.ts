import type { PrepData } from './popen/popen';

/** The first message on a child's channel: everything it needs to become the Process. */
export interface BootstrapMessage {
  multiproc: 'bootstrap';
  prep: PrepData;
  /** `dumps()` of { args, kwargs, fields }, read after the target's module is imported. */
  object: Uint8Array;
  /**
   * For a child booted before `start()` (a 'forkserver' spare): the parent's environment and
   * working directory at `start()`, which the child takes on before it imports anything.
   */
  environ?: { env: Record<string, string | undefined>; cwd: string | null };
}

export function isBootstrapMessage(m: unknown): m is BootstrapMessage {
  return typeof m === 'object' && m !== null && (m as any).multiproc === 'bootstrap';
}

/**
 * Follows the start-up message with a socket that did not exist yet at `start()` (the native
 * handle rides along); `id` is the token the child's arguments name it by.
 */
export interface HandleMessage {
  multiproc: 'handle';
  id: number;
}

/** Set in the environment of a spare: it warms up and says when it is ready. */
export const SPARE_ENV = 'MULTIPROC_FORKSERVER_SPARE';

/**
 * The parent's first message to a spare: a start-up message for no process, so that the real
 * one is not the first of its shape the spare reads (that costs ~1 ms more; see warmUp).
 */
export interface SpareWarmUpMessage {
  multiproc: 'warm-up';
  sample: BootstrapMessage;
  /** URLs to import while waiting: the parent's main module first (see popen/preload.ts). */
  preload: string[];
}

/** Sent before each preload import: a spare that ends now ended in that module's top-level code. */
export interface SparePreloadingMessage {
  multiproc: 'spare-preloading';
  url: string;
}

/** A spare's message once it waits, booted, for its start-up message. */
export interface SpareReadyMessage {
  multiproc: 'spare-ready';
  /** Preloads that threw, and why: this spare must not be used (an ES module that threw stays errored). */
  failed: { url: string; error: string }[];
}

/**
 * A child's last message, from its 'exit' event: it is ending with this code. Node can hang in
 * its own exit after that (nodejs/node#54918); the parent then ends it (see SpawnPopen).
 */
export interface ExitingMessage {
  multiproc: 'exiting';
  code: number;
}
