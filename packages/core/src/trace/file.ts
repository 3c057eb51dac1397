import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ProcessError } from '@multiproc/errors';
import { state } from '../state';
import { describe } from '../timeout';
import { now, record, startRecording, stopRecording, tracePrep } from './recorder';

/**
 * The trace file of the main process: `startTrace(file)` begins, `stopTrace()` (or this
 * process's exit) ends it, turning the events every process appended to the side file
 * `<file>.<pid>.events` into one `{"traceEvents": [...]}` document, and removing the side file.
 */
let target: string | null = null;
let exitHook: (() => void) | null = null;

/** Set in every child before core loads (child.ts): MULTIPROC_TRACE in its environment is its parent's trace. */
const CHILD = Symbol.for('multiproc.child');
export const ENV = 'MULTIPROC_TRACE';

/**
 * Records every process start and exit, Pipe message, Queue item and Pool chunk of this program
 * (this process and the children it starts from now on) into `file`, in the Chrome trace event
 * format that Perfetto (ui.perfetto.dev) and chrome://tracing open as a timeline.
 */
export function startTrace(file: string): void {
  if (typeof file !== 'string' || file === '') throw new TypeError(`startTrace(file): file must be a path such as 'trace.json', got ${describe(file)}`);
  if ((globalThis as any)[CHILD]) throw new ProcessError('startTrace(file): only the main process can start a trace; a child records into its parent\'s trace already');
  const path = resolve(file);
  if (target !== null) throw new ProcessError(`startTrace(file): a trace into ${target} is under way; call stopTrace() first`);
  // The trace file is written now, so a path that cannot be written fails here and not at exit.
  try {
    writeFileSync(path, '{"traceEvents":[]}\n');
  } catch (err: any) {
    throw new ProcessError(`startTrace(file): cannot write the trace file ${path} (${err?.code ?? err}); give a path in a writable directory`, { cause: err });
  }
  startRecording(sideFile(path), true);
  target = path;
  record({ ph: 'B', name: state.name, cat: 'process', args: { pid: process.pid } });
  if (!exitHook) process.on('exit', (exitHook = finish));
}

/**
 * Ends the trace and writes the file (valid JSON from then on). Events that children started
 * while tracing record after this are dropped: stop once they have ended.
 */
export async function stopTrace(): Promise<void> {
  finish();
}

function sideFile(path: string): string {
  return `${path}.${process.pid}.events`;
}

function finish(): void {
  const path = target;
  if (path === null) return;
  target = null;
  record({ ph: 'E', name: state.name, cat: 'process', ts: now() });
  stopRecording();
  const side = sideFile(path);
  let lines: string[] = [];
  try {
    lines = readFileSync(side, 'utf8').split('\n');
  } catch {
    // nothing was recorded
  }
  // A process killed in the middle of a write leaves a torn line: dropped.
  const kept = lines.filter((line) => {
    if (!line) return false;
    try {
      JSON.parse(line);
      return true;
    } catch {
      return false;
    }
  });
  writeFileSync(path, `{"traceEvents":[\n${kept.join(',\n')}\n],"displayTimeUnit":"ms"}\n`);
  rmSync(side, { force: true });
}

/** `MULTIPROC_TRACE=file.json` in the main process's environment: tracing from the start. */
export function traceFromEnv(): void {
  const file = process.env[ENV];
  if (!file || (globalThis as any)[CHILD]) return;
  try {
    startTrace(file);
  } catch (err) {
    // Loading the package must not fail for it: the program runs, untraced, and says why.
    process.emitWarning(`${ENV}=${file}: ${(err as Error).message}; the program runs without a trace`, 'MultiprocWarning');
  }
}

export { tracePrep };
