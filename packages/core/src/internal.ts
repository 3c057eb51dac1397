/**
 * What the `@multiproc/*` packages share with one another and users must not rely on: the
 * `@multiproc/core/internal` subpath. Its dist/internal.js takes these from dist/index.js (see
 * index.ts), so a package that uses them shares core's one copy of every module's state.
 *
 * @module @multiproc/core/internal
 */
export { Context, registerContextFactory } from './context';
export { Sentinel, waitable, waitFor } from './wait';
/** how Connections and queue participants write, and lose nothing at exit */
export { FrameWriter, FRAME_HEADER, frameHeader, type FrameWriterOptions, type FrameWriterOwner } from './frame-writer';
export { whileFlowing, canSpin, MAX_SKIP, receivesWaiting } from './sync-io';
/** Node's private socket internals, touched in one place */
export { socketFd, takeHandle, socketOverHandle } from './node-internals';
export { dumps, loads, shareBuffer, type BufferReducer } from './reduction';
export { messageContext } from './route';
/** the message format: Connection encodes and decodes with the fast path, a Queue's items with the codec */
export { encodePlain, decode } from './fast-clone';
export { encodeMessage, decodeMessage } from './codec';
export { secondsToMs, waitOptions, checkSignal, abortError, describe as describeValue } from './timeout';
/** the one shape of the error for an option a call does not take */
export { refuseUnknownOptions } from './options';
/** how a queue (local or remote) reads (block, timeout) or { block, timeout, signal } */
export { blockingOptions, waitArgs, type Parsed as ParsedBlocking } from './blocking-options';
/** how @multiproc/pool ships task functions, as Process ships its target */
export { checkTarget } from './target-check';
export { describeTarget, loadTarget } from './start-calls';
export type { TargetSpec } from './target/spec';
export { callerFile } from './process';
/** work a child finishes after its target returned, before it exits (a remote queue's unflushed puts) */
export { atChildExit } from './finalize';
/** ends the 'forkserver' spares now (the test suites' check that no process is left behind) */
export { stopForkserver } from './start-calls';
/** the child's entry point (dist/child.js) */
export { runChildProcess } from './start-calls';
/** lifecycle log lines, and the trace's recording (the packages keep their hot-path boolean with onTraceChange) */
export { debug as logDebug, info as logInfo, subDebug as logSubDebug } from './log/logger';
export { onTraceChange, record as traceRecord, recordFlow as traceFlow, flowId as traceFlowId, now as traceNow } from './trace/recorder';
