import { readFileSync } from 'node:fs';
import { describe } from '../timeout';
import type { TraceEvent } from './recorder';

export interface TimelineOptions {
  /** Columns of the whole output (default 100, at least 40). */
  width?: number;
}

interface Row {
  pid: number;
  name: string;
  start: number | null;
  end: number | null;
  exitCode: unknown;
  marks: [ts: number, mark: string][];
  spans: [ts: number, dur: number][];
  sent: number;
  sentBytes: number;
  received: number;
  receivedBytes: number;
  chunks: number;
}

const MARK_ORDER = 'SX<>#-';

/**
 * A trace file (from `startTrace`/MULTIPROC_TRACE) as a text timeline, one row per process:
 * `S` start, `X` exit, `>` a message sent or item put, `<` one received or taken, `#` a Pool
 * chunk running, `-` alive. A file cut short (a killed program) is read up to its last whole event.
 */
export function renderTimeline(file: string, options: TimelineOptions = {}): string {
  if (typeof file !== 'string' || file === '') throw new TypeError(`renderTimeline(file): file must be the path of a trace file, got ${describe(file)}`);
  if (options === null || typeof options !== 'object') throw new TypeError(`renderTimeline(file, options): options must be an object such as { width: 100 }, got ${describe(options)}`);
  const width = options.width ?? 100;
  if (!Number.isInteger(width) || width < 40) throw new RangeError(`renderTimeline(file, { width }): width must be an integer of at least 40 columns, got ${describe(width)}`);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err: any) {
    throw new Error(`renderTimeline(file): cannot read ${file} (${err?.code ?? err})`, { cause: err });
  }
  return render(parseTrace(text, file), width);
}

/** The events of a trace in either form, or of a file cut short: every whole event. */
export function parseTrace(text: string, file = 'the trace'): TraceEvent[] {
  try {
    const doc = JSON.parse(text);
    const events = Array.isArray(doc) ? doc : doc?.traceEvents;
    if (Array.isArray(events)) return events;
  } catch {
    // cut short: line by line below
  }
  const events: TraceEvent[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim().replace(/^\[/, '').replace(/,$/, '');
    if (!line.startsWith('{')) continue;
    try {
      const ev = JSON.parse(line);
      if (typeof ev?.ph === 'string') events.push(ev);
    } catch {
      // a torn last line
    }
  }
  if (events.length === 0) throw new Error(`${file} holds no trace events (expected the Chrome trace event format that startTrace() writes)`);
  return events;
}

function render(events: TraceEvent[], width: number): string {
  const rows = new Map<number, Row>();
  const row = (pid: number): Row => {
    let r = rows.get(pid);
    if (!r) rows.set(pid, (r = { pid, name: `pid ${pid}`, start: null, end: null, exitCode: undefined, marks: [], spans: [], sent: 0, sentBytes: 0, received: 0, receivedBytes: 0, chunks: 0 }));
    return r;
  };
  let t0 = Infinity;
  let t1 = -Infinity;
  for (const ev of events) {
    if (typeof ev?.pid !== 'number') continue;
    const r = row(ev.pid);
    if (ev.ph === 'M') {
      if (ev.name === 'process_name' && typeof ev.args?.name === 'string') r.name = ev.args.name;
      continue;
    }
    const ts = typeof ev.ts === 'number' ? ev.ts : null;
    if (ts === null) continue;
    t0 = Math.min(t0, ts);
    t1 = Math.max(t1, ts + (ev.dur ?? 0));
    const bytes = typeof ev.args?.bytes === 'number' ? ev.args.bytes : 0;
    if (ev.ph === 'B' && ev.cat === 'process') {
      r.start = ts;
      r.marks.push([ts, 'S']);
    } else if (ev.ph === 'E' && ev.cat === 'process') {
      r.end = ts;
      r.exitCode = ev.args?.exitCode;
      r.marks.push([ts, 'X']);
    } else if (ev.ph === 'X' && (ev.name === 'send' || ev.name === 'put')) {
      r.sent++;
      r.sentBytes += bytes;
      r.marks.push([ts, '>']);
    } else if (ev.ph === 'X' && (ev.name === 'recv' || ev.name === 'get')) {
      r.received++;
      r.receivedBytes += bytes;
      r.marks.push([ts, '<']);
    } else if (ev.ph === 'X' && ev.cat === 'pool') {
      r.chunks++;
      r.spans.push([ts, ev.dur ?? 0]);
    }
  }
  if (rows.size === 0 || t0 === Infinity) return 'no processes in this trace\n';
  const list = [...rows.values()].sort((a, b) => (a.start ?? t0) - (b.start ?? t0) || a.pid - b.pid);
  const labels = list.map((r) => `${r.name} (pid ${r.pid})`);
  const labelWidth = Math.min(Math.max(...labels.map((l) => l.length)) + 1, Math.floor(width / 3));
  const cols = width - labelWidth - 2;
  const span = Math.max(t1 - t0, 1);
  const col = (ts: number) => Math.min(cols - 1, Math.max(0, Math.floor(((ts - t0) / span) * cols)));
  const ms = (us: number) => `${(us / 1000).toFixed(us < 10_000 ? 2 : 0)} ms`;
  const out: string[] = [];
  const messages = list.reduce((n, r) => n + r.sent, 0);
  out.push(`multiproc trace: ${list.length} processes, ${ms(span)}, ${messages} messages and items sent`);
  const right = ms(span);
  out.push(`${' '.repeat(labelWidth)} 0 ms${right.padStart(cols - 4)}`);
  list.forEach((r, i) => {
    const line = Array<string>(cols).fill(' ');
    const put = (c: number, m: string) => {
      if (line[c] === ' ' || MARK_ORDER.indexOf(m) < MARK_ORDER.indexOf(line[c])) line[c] = m;
    };
    const from = r.start ?? t0;
    const to = r.end ?? t1;
    for (let c = col(from); c <= col(to); c++) put(c, '-');
    for (const [ts, dur] of r.spans) for (let c = col(ts); c <= col(ts + dur); c++) put(c, '#');
    for (const [ts, m] of r.marks) put(col(ts), m);
    const label = labels[i].length > labelWidth - 1 ? labels[i].slice(0, labelWidth - 2) + '…' : labels[i];
    out.push(`${label.padEnd(labelWidth)}|${line.join('')}|`);
  });
  out.push('S start  X exit  > sent/put  < received/got  # pool chunk  - alive');
  for (const [i, r] of list.entries()) {
    const parts = [`${labels[i]}: sent ${r.sent} (${r.sentBytes} B)`, `received ${r.received} (${r.receivedBytes} B)`];
    if (r.chunks) parts.push(`${r.chunks} pool chunks`);
    if (r.exitCode !== undefined) parts.push(`exit code ${r.exitCode}`);
    out.push(parts.join(', '));
  }
  return out.join('\n') + '\n';
}
