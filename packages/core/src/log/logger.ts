import { format } from 'node:util';
import { state } from '../state';
import { describe } from '../timeout';

/** Python's `multiprocessing.util` levels (and `logging`'s, which they sit between). */
export const NOTSET = 0;
export const SUBDEBUG = 5;
export const DEBUG = 10;
export const INFO = 20;
export const SUBWARNING = 25;
export const WARNING = 30;
export const ERROR = 40;
export const CRITICAL = 50;

const NAMES = new Map<number, string>([
  [NOTSET, 'NOTSET'],
  [SUBDEBUG, 'SUBDEBUG'],
  [DEBUG, 'DEBUG'],
  [INFO, 'INFO'],
  [SUBWARNING, 'SUBWARNING'],
  [WARNING, 'WARNING'],
  [ERROR, 'ERROR'],
  [CRITICAL, 'CRITICAL'],
]);
const BY_NAME = new Map([...NAMES].map(([n, name]) => [name.toLowerCase(), n]));

/** A level number, or its name in any case ('info', 'SUBDEBUG'). */
export type LogLevel = number | string;

/** What a sink gets besides the formatted line. */
export interface LogRecord {
  level: number;
  levelName: string;
  /** The logging process's name (`Process-1:2`, `MainProcess`). */
  processName: string;
  pid: number;
  /** The message with its arguments filled in (`util.format`). */
  message: string;
  /** Milliseconds since the epoch. */
  time: number;
}

/** A function (as `debug`'s loggers are), or a console-like object whose method per level is called. */
export type LogSink = ((line: string, record: LogRecord) => void) | Pick<Console, 'log' | 'debug' | 'info' | 'warn' | 'error'>;

/** The one 'multiproc' logger of this process (Python's `util._logger`). */
export interface Logger {
  /** The level set; NOTSET (0) logs WARNING and above once a sink is set, as Python's root level does. */
  readonly level: number;
  setLevel(level: LogLevel): void;
  isEnabledFor(level: LogLevel): boolean;
  /** Where lines go: null (the default) drops them; `logToStderr()` sets stderr. */
  setSink(sink: LogSink | null): void;
  subDebug(msg: string, ...args: unknown[]): void;
  debug(msg: string, ...args: unknown[]): void;
  info(msg: string, ...args: unknown[]): void;
  subWarning(msg: string, ...args: unknown[]): void;
  warning(msg: string, ...args: unknown[]): void;
  error(msg: string, ...args: unknown[]): void;
}

/** What a child inherits (Python's prep data `log_to_stderr` and `log_level`). */
export interface LogPrep {
  level: number;
  toStderr: boolean;
}

/** The level below which nothing is written: Infinity while there is no sink (one compare per call). */
let threshold = Infinity;
let level = NOTSET;
let sink: LogSink | null = null;

export function toLevel(value: unknown, what: string): number {
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0) return value;
  if (typeof value === 'string' && BY_NAME.has(value.toLowerCase())) return BY_NAME.get(value.toLowerCase())!;
  throw new TypeError(`${what}: level must be a non-negative integer or one of ${[...BY_NAME.keys()].map((n) => `'${n}'`).join(', ')}, got ${describe(value)}`);
}

function checkSink(value: unknown): LogSink | null {
  if (value === null || typeof value === 'function') return value as LogSink | null;
  if (typeof value === 'object' && ['log', 'debug', 'info', 'warn', 'error'].every((m) => typeof (value as any)[m] === 'function')) return value as LogSink;
  throw new TypeError(`Logger.setSink(sink): sink must be a function (line, record) => void, an object with log/debug/info/warn/error methods (such as console), or null, got ${describe(value)}`);
}

function update(): void {
  threshold = sink === null ? Infinity : level === NOTSET ? WARNING : level;
}

function emit(n: number, msg: string, args: unknown[]): void {
  if (n < threshold) return;
  const levelName = NAMES.get(n) ?? `Level ${n}`;
  const message = args.length ? format(msg, ...args) : String(msg);
  const record: LogRecord = { level: n, levelName, processName: state.name, pid: process.pid, message, time: Date.now() };
  const line = `[${levelName}/${record.processName}] ${message}`;
  const to = sink!;
  if (typeof to === 'function') to(line, record);
  else if (n >= ERROR) to.error(line);
  else if (n >= WARNING) to.warn(line);
  else if (n >= INFO) to.info(line);
  else to.debug(line);
}

const STDERR: LogSink = (line) => process.stderr.write(line + '\n');

export const logger: Logger = {
  get level() {
    return level;
  },
  setLevel(value) {
    level = toLevel(value, 'Logger.setLevel(level)');
    update();
  },
  isEnabledFor(value) {
    return toLevel(value, 'Logger.isEnabledFor(level)') >= threshold;
  },
  setSink(value) {
    sink = checkSink(value);
    update();
  },
  subDebug: (msg, ...args) => emit(SUBDEBUG, msg, args),
  debug: (msg, ...args) => emit(DEBUG, msg, args),
  info: (msg, ...args) => emit(INFO, msg, args),
  subWarning: (msg, ...args) => emit(SUBWARNING, msg, args),
  warning: (msg, ...args) => emit(WARNING, msg, args),
  error: (msg, ...args) => emit(ERROR, msg, args),
};

/** Python's `get_logger()`: the 'multiproc' logger, silent until a sink is set. */
export function getLogger(): Logger {
  return logger;
}

/**
 * Python's `log_to_stderr(level)`: lines `[LEVEL/ProcessName] message` go to stderr, in this
 * process and in the children it starts from now on.
 */
export function logToStderr(value?: LogLevel | null): Logger {
  if (value !== undefined && value !== null) level = toLevel(value, 'logToStderr(level)');
  sink = STDERR;
  update();
  return logger;
}

/** For a child's prep data: null when the logger was never configured. */
export function logPrep(): LogPrep | null {
  return level === NOTSET && sink === null ? null : { level, toStderr: sink !== null };
}

/** In a child: the parent's level; a function sink cannot travel, so any sink becomes stderr. */
export function takeLogPrep(prep: LogPrep | null | undefined): void {
  if (!prep) return;
  level = prep.level;
  sink = prep.toStderr ? STDERR : null;
  update();
}

/** Lifecycle messages (not per message): cheap when nothing is written. */
export const subDebug = logger.subDebug;
export const debug = logger.debug;
export const info = logger.info;
