import { closeSync, constants, openSync, writeSync } from 'node:fs';
import { state } from '../state';

/**
 * Recording trace events (Chrome trace event format), in every process of a traced program:
 * each appends its events, one JSON object a line, to one side file with O_APPEND writes (whole
 * lines, never interleaved), which the main process turns into the trace file at the end (see
 * file.ts). Each event is written when it happens, before what it records (a message sent) can
 * be seen by another process: a process killed a moment later has lost none of its events. Off,
 * nothing here runs: the packages' hot paths test a boolean of their own, which `onTraceChange`
 * keeps up to date.
 */

/** What a child inherits: the side file to append to. */
export interface TracePrep {
  events: string;
}

/** A trace event; `pid`, `tid` and `ts` are filled in. */
export interface TraceEvent {
  ph: string;
  name: string;
  cat?: string;
  ts?: number;
  dur?: number;
  id?: number;
  bp?: 'e';
  s?: 'g' | 'p' | 't';
  pid?: number;
  tid?: number;
  args?: Record<string, unknown>;
}

let fd = -1;
let events: string | null = null;
const listeners: ((on: boolean) => void)[] = [];

export function tracing(): boolean {
  return fd >= 0;
}

/** Calls `fn` now and whenever tracing starts or stops: a package keeps its hot-path boolean this way. */
export function onTraceChange(fn: (on: boolean) => void): void {
  listeners.push(fn);
  fn(fd >= 0);
}

/** Microseconds since the epoch, comparable across processes (to well under a millisecond). */
export function now(): number {
  return Math.round((performance.timeOrigin + performance.now()) * 1000);
}

/** A numeric flow id both ends compute from the same text (53-bit hash: trace viewers want numbers). */
export function flowId(text: string): number {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

export function record(ev: TraceEvent): void {
  if (fd >= 0) write(line(ev) + '\n');
}

function line(ev: TraceEvent): string {
  ev.pid ??= process.pid;
  ev.tid ??= ev.pid;
  ev.ts ??= now();
  return JSON.stringify(ev);
}

function write(text: string): void {
  try {
    writeSync(fd, text);
  } catch {
    // The side file is gone (the main process finished the trace): this process's events end here.
  }
}

/**
 * A span of `dur` µs with a flow arrow leaving it (`out`) or arriving in it (`in`). The arrow's
 * end sits inside the span, so viewers bind it to that span and not to the process's.
 */
export function recordFlow(dir: 'out' | 'in', name: string, cat: string, id: number, args: Record<string, unknown>, ts = now(), dur = 2): void {
  if (fd < 0) return;
  const flow: TraceEvent = dir === 'out' ? { ph: 's', name: cat, cat, id, ts: ts + dur / 2 } : { ph: 'f', bp: 'e', name: cat, cat, id, ts: ts + dur / 2 };
  write(`${line({ ph: 'X', name, cat, ts, dur, args })}\n${line(flow)}\n`); // one write: never half an arrow
}

/** Starts appending to `file` (created by the main process); false when it cannot be opened. */
export function startRecording(file: string, create: boolean): boolean {
  stopRecording();
  try {
    fd = openSync(file, constants.O_WRONLY | constants.O_APPEND | (create ? constants.O_CREAT | constants.O_TRUNC : 0), 0o600);
  } catch (err) {
    if (create) throw err;
    return false; // the traced program has ended already
  }
  events = file;
  record({ ph: 'M', name: 'process_name', args: { name: state.name } });
  record({ ph: 'M', name: 'thread_name', args: { name: state.name } });
  for (const fn of listeners) fn(true);
  return true;
}

export function stopRecording(): void {
  if (fd < 0) return;
  closeSync(fd);
  fd = -1;
  events = null;
  for (const fn of listeners) fn(false);
}

/** For a child's prep data. */
export function tracePrep(): TracePrep | null {
  return events === null ? null : { events };
}
