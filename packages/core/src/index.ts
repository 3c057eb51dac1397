/**
 * `Process`, the start methods (`'spawn'`, `'forkserver'`) and contexts, `wait()`, and the transfer
 * protocol that carries values (and handles) to a child process.
 *
 * @module @multiproc/core
 */
import { registerErrorTransfer } from './error-transfer';
import * as internal from './internal';
import { startModules } from './start-modules';
import { provideStartModules } from './start-part';
import { traceFromEnv } from './trace/file';

export { Process, currentProcess, activeChildren, type ProcessOptions } from './process';
export { parentProcess, type ParentProcess } from './parent-process';
export { getContext, type Context } from './context';
export { getAllStartMethods, getStartMethod, setStartMethod } from './start-methods';
export { setForkserverOptions, getForkserverOptions, forkserverReady } from './forkserver';
export type { ForkserverOptions } from './popen/spares';
export { wait, type Sentinel, type Waitable, type Readiness } from './wait';
export type { WaitOptions } from './timeout';
export { isMainModule } from './main-guard';
export {
  reduce,
  register,
  registerRebuilder,
  type Reduced,
  type Reducer,
  type Rebuilder,
  type TransferContext,
  type LentHandle,
  type RebuildContext,
} from './reduction';
export type { ModuleReference, Target } from './target-check';
export {
  getLogger,
  logToStderr,
  NOTSET,
  SUBDEBUG,
  DEBUG,
  INFO,
  SUBWARNING,
  WARNING,
  ERROR,
  CRITICAL,
  type Logger,
  type LogLevel,
  type LogRecord,
  type LogSink,
} from './log/logger';
export { startTrace, stopTrace } from './trace/file';
export { renderTimeline, type TimelineOptions } from './trace/timeline';
export type {
  QueueLike,
  JoinableQueueLike,
  PoolLike,
  AsyncResultLike,
  PoolTask,
  MapOptions,
  AsyncOptions,
  BlockingOptions,
  WaitArgument,
  QueueContextLike,
  ContextLike,
} from './interfaces';

/** Python's `cpu_count()`: how many processes can usefully run at once. */
export function cpuCount(): number {
  return (require('node:os') as typeof import('node:os')).availableParallelism();
}

provideStartModules(startModules);
registerErrorTransfer();
traceFromEnv();

// What the other packages need of core goes under a symbol, not a name: @multiproc/core/internal
// (dist/internal.js) hands it out from this bundle, so there is one copy of every module's state.
Object.defineProperty(module.exports, Symbol.for('multiproc.internal'), { value: internal });
