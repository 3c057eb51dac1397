import type { LogPrep } from '../log/logger';
import type { TransferContext } from '../reduction';
import type { TracePrep } from '../trace/recorder';
import type { TargetSpec } from '../target/spec';
import type { Sentinel } from '../wait';

/**
 * The boundary between a Process and how its child is started (CPython's `popen_*` modules).
 * Process holds one of these after `start()` and knows nothing else about the start method.
 */
export interface Popen {
  readonly pid: number;
  /** Ready once the child has ended. */
  readonly sentinel: Sentinel;
  /** The exit code, `-N` for signal N, or null while the child runs (Python's `poll()`). */
  poll(): number | null;
  /** Resolves with the exit code, or null if `ms` ran out first. */
  wait(ms: number | null, signal?: AbortSignal): Promise<number | null>;
  terminate(): void;
  kill(): void;
  /** Releases what the backend holds for the child; only after it ended. */
  close(): void;
}

/** What the child must learn before it can import anything (Python's preparation data). */
export interface PrepData {
  name: string;
  identity: number[];
  authkey: Uint8Array;
  daemon: boolean;
  parentName: string;
  parentPid: number;
  /** Pids from the main process down to the parent. */
  lineage: number[];
  startMethod: string;
  target: TargetSpec;
  /** The Process subclass to instantiate, when it is not Process itself. */
  cls: TargetSpec | null;
  /** The logger's level and whether it writes to stderr (Python's `log_level`, `log_to_stderr`). */
  log: LogPrep | null;
  /** The trace this child records into, if one is under way. */
  trace: TracePrep | null;
}

/** Everything a backend needs to start one child. */
export interface LaunchSpec {
  prep: PrepData;
  /** Writes the run-time part (args, kwargs, subclass fields) with the backend's transfer context. */
  dumpObject(ctx: TransferContext): Buffer;
  daemon: boolean;
}

export interface StartMethodBackend {
  readonly name: string;
  launch(spec: LaunchSpec): Popen;
}
