/**
 * `Process`, the start methods (`'spawn'`, `'forkserver'`) and contexts, `wait()`, and the transfer
 * protocol that carries values (and handles) to a child process.
 *
 * @module @multiproc/core
 */
import { availableParallelism } from 'node:os';
import { registerErrorTransfer } from './error-transfer';

export { Process, currentProcess, activeChildren, type ProcessOptions } from './process';
export { parentProcess, ParentProcess } from './parent-process';
export { Context, getContext, registerContextFactory } from './context';
export { getAllStartMethods, getStartMethod, setStartMethod } from './start-methods';
export { setForkserverOptions, getForkserverOptions, forkserverReady, type ForkserverOptions } from './popen/spares';
export { wait, waitable, Sentinel, type Waitable, type Readiness } from './wait';
export { isMainModule } from './main-guard';
export { atChildExit } from './finalize';
/** @internal how Connections and queue participants write, and lose nothing at exit */
export { SocketWriter, type WriterOwner } from './socket-writer';
export { FrameWriter, FRAME_HEADER, frameHeader, type FrameWriterOptions, type FrameWriterOwner } from './frame-writer';
export { whileFlowing, CAN_SPIN, MAX_SKIP, receivesWaiting } from './sync-io';
/** @internal Node's private socket internals, read in one place */
export { socketFd, unwrittenBytes } from './node-internals';
export {
  reduce,
  register,
  registerRebuilder,
  dumps,
  loads,
  type Reduced,
  type Reducer,
  type Rebuilder,
  type TransferContext,
  type LentHandle,
  type RebuildContext,
} from './reduction';
export { messageContext, type Ticket } from './route';
export { secondsToMs, waitOptions, waitFor, abortError, describe as describeValue, type WaitOptions } from './timeout';
export type { ModuleReference, Target } from './target/describe';
export type { Popen, StartMethodBackend } from './popen/popen';
/** @internal how @multiproc/pool ships task functions, as Process ships its target */
export { describeTarget as _describeTarget } from './target/describe';
/** @internal */
export { loadTarget as _loadTarget } from './target/load';
export type { TargetSpec as _TargetSpec } from './target/spec';
/** @internal */
export { callerFile as _callerFile } from './process';
/** @internal ends the 'forkserver' spares now (the test suites' check that no process is left behind) */
export { stopForkserver as _stopForkserver } from './popen/spares';
/** @internal the child's entry point (dist/child.js) */
export { runChildProcess as _runChildProcess } from './bootstrap/child';

/** Python's `cpu_count()`: how many processes can usefully run at once. */
export function cpuCount(): number {
  return availableParallelism();
}

registerErrorTransfer();
