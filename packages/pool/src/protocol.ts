import type { TargetSpec } from '@multiproc/core/internal';
import type { Packed } from './pack';

/**
 * Messages between the pool and one worker, over the worker's own Pipe. The two sides share
 * only this file (as piscina's worker shares only its types with the pool).
 */
export type ToWorker =
  /** Defines function `id` (sent once per worker, before its first task). */
  | ['fn', id: number, spec: TargetSpec]
  /** A chunk: call function `fn` on each item (`star`: each item is an argument list; numbers may come packed). */
  | ['task', chunk: number, fn: number, star: boolean, items: Packed, kwargs: object | undefined];

export type FromWorker =
  /** The initializer ran; tasks may come. */
  | ['ready']
  /** The initializer threw this (the worker exits next). */
  | ['initFailed', error: unknown, name: string]
  /** The chunk's results (numbers may come packed), and how long it took (ms): the pool sizes its pipeline to the worker's pace. */
  | ['ok', chunk: number, results: Packed, ms: number]
  /** The chunk's first failure: the error thrown, and its name (structured clone keeps only built-in names). */
  | ['err', chunk: number, error: unknown, name: string, ms: number];

/** What a worker is started with. */
export interface WorkerInit {
  initializer: TargetSpec | null;
  initargs: unknown[];
  /** Chunks a worker runs before it exits (Python's maxtasksperchild); null: no limit. */
  maxtasks: number | null;
}
