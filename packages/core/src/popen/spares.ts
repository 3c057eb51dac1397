import { ProcessError } from '@multiproc/errors';
import type { ChildProcess } from 'node:child_process';
import { refuseUnknownOptions } from '../options';
import { SPARE_ENV, type BootstrapMessage, type SpareReadyMessage, type SpareWarmUpMessage } from '../protocol';
import { dumps, type TransferContext } from '../reduction';
import type { PrepData } from './popen';
import { describe, waitOptions, type WaitOptions } from '../timeout';
import { waitFor } from '../wait';
import { mainModuleUrl, resolvePreload } from './preload';
import type { TargetSpec } from '../target/spec';
import { childArgs } from './spawn';

/**
 * The 'forkserver' start method's pool: Node processes booted ahead of time, our bootstrap loaded
 * and waiting on its IPC channel for a start-up message. `start()` takes one and the pool refills
 * in the background. Spares are unref'd (they never keep this process alive) and end as soon as
 * their channel closes, i.e. when this process ends, however it ends.
 *
 *     boot ──▶ booting ──'spare-ready'──▶ ready ──start()──▶ the Process's child
 *                 │                          │
 *                 └──── stale / retired ─────┴──▶ killed (idle timeout, fewer spares, new execArgv,
 *                                                              a preload that threw, a module no
 *                                                              longer to be preloaded)
 */

export interface ForkserverOptions {
  /** How many idle spares to keep ready (default 2). 0 boots each child at start(), as 'spawn' does. */
  spares?: number;
  /** Seconds an idle spare waits before it ends (default 60; null: until this process ends). */
  idleTimeout?: number | null;
  /**
   * Modules a spare imports while it waits, after the program's main module (Python's
   * `set_forkserver_preload`): package names, paths (relative to the working directory) or URLs.
   */
  preload?: readonly (string | URL)[];
}

interface Spare {
  cp: ChildProcess;
  /** What it was booted with; a spare whose key is not the current one is stale. */
  key: string;
  /** The modules it imports while it waits: one that is no longer wanted makes it stale. */
  preloaded: readonly string[];
  ready: boolean;
  timer: NodeJS.Timeout | null;
  /** Detaches the pool's listeners when the spare is taken. */
  detach(): void;
}

const options = { spares: 2, idleTimeout: 60 as number | null, preload: [] as (string | URL)[] };
/** `options.preload` as URLs. */
let preloadUrls: string[] = [];
/** Preloads that threw in a spare (or ended it): spares boot without them from then on. */
const failedPreloads = new Set<string>();
const pool: Spare[] = [];
/** The pool refills only once the program has used it (or asked for it). */
let inUse = false;
/** Set when a spare died while booting: refilling waits for the next start(), not to loop on a broken boot. */
let bootFailure: string | null = null;
const wakers = new Set<() => void>();
/** When start() last took a spare, and the timer that refills once starts pause. */
let lastStart = -Infinity;
let refillTimer: NodeJS.Timeout | null = null;
/**
 * Booting a spare takes a core for ~60 ms: done while a child starts, it slows that child. So
 * the pool refills once start() has not been called for this long (or at once when it is empty).
 */
const QUIET_MS = 10;

export function setForkserverOptions(opts: ForkserverOptions): void {
  if (opts === null || typeof opts !== 'object' || Array.isArray(opts)) {
    throw new TypeError(`setForkserverOptions(options): options must be an object such as { spares: 4, idleTimeout: 30 }, got ${describe(opts)}`);
  }
  const { spares, idleTimeout, preload, ...rest } = opts;
  refuseUnknownOptions(rest, ['spares', 'idleTimeout', 'preload'], 'setForkserverOptions(options)');
  if (spares !== undefined && !(Number.isInteger(spares) && spares >= 0)) {
    throw new TypeError(`setForkserverOptions(options): spares must be an integer ≥ 0 (how many idle processes to keep ready), got ${describe(spares)}`);
  }
  if (idleTimeout !== undefined && idleTimeout !== null && !(typeof idleTimeout === 'number' && idleTimeout >= 0)) {
    throw new TypeError(`setForkserverOptions(options): idleTimeout must be a number of seconds ≥ 0, or null (spares wait until this process ends), got ${describe(idleTimeout)}`);
  }
  const urls = preload === undefined ? null : resolvePreload(preload);
  if (urls !== null) {
    options.preload = [...preload!];
    preloadUrls = urls;
  }
  if (spares !== undefined) options.spares = spares;
  if (idleTimeout !== undefined) {
    options.idleTimeout = idleTimeout;
    for (const s of pool) if (s.ready) armIdleTimer(s);
  }
  // Fewer spares: the extra ones (the last booted) go now; so do idle ones holding a module no longer to be preloaded.
  if (urls !== null) retireStale(bootKey());
  while (pool.length > options.spares) retire(pool[pool.length - 1]);
  refill();
}

export function getForkserverOptions(): Required<ForkserverOptions> {
  return { ...options, preload: [...options.preload] };
}

/** forkserverReady() of forkserver.ts. */
export function forkserverReady(opts?: number | null | WaitOptions): Promise<boolean> {
  const { ms, signal } = waitOptions(opts, 'forkserverReady(timeout)');
  inUse = true;
  bootFailure = null;
  retireStale(bootKey());
  refill(true);
  const readiness = {
    ready: () => bootFailure !== null || pool.filter((s) => s.ready).length >= options.spares,
    subscribe(wake: () => void) {
      wakers.add(wake);
      return () => wakers.delete(wake);
    },
    // Spares are unref'd: whoever waits for them keeps this process alive meanwhile.
    hold() {
      const t = setInterval(() => {}, 1 << 30);
      return () => clearInterval(t);
    },
  };
  return waitFor(readiness, ms, signal).then((full) => {
    if (bootFailure !== null) throw new ProcessError(`a 'forkserver' spare process ${bootFailure} while booting; see its output above`);
    return full;
  });
}

/** A booted (or booting) process for `start()`, taken out of the pool. */
export function takeSpare(): ChildProcess {
  inUse = true;
  bootFailure = null;
  const key = bootKey();
  retireStale(key);
  // A ready spare, one that preloaded every module there is to preload first; else the one furthest
  // into its boot, else a new one. A booting spare may yet fail a preload, and one that did must
  // not be used: with preloads, a start that finds no ready spare boots its own process.
  const wanted = preloads();
  const spare =
    pool.find((s) => s.ready && wanted.every((url) => s.preloaded.includes(url))) ??
    pool.find((s) => s.ready) ??
    (wanted.length ? undefined : pool[0]) ??
    boot(key, false);
  remove(spare);
  spare.detach();
  lastStart = performance.now();
  refillSoon();
  return spare.cp;
}

/** Ends every spare (the test suites' check that no process is left behind); the pool refills at the next start. */
export function stopForkserver(): void {
  inUse = false;
  for (const s of [...pool]) retire(s);
}

/**
 * What a spare must share with a child booted at `start()` to stand in for it: Node's
 * executable and arguments, and the environment variables Node reads only while it boots.
 */
function bootKey(): string {
  const nodeEnv = Object.keys(process.env)
    .filter((k) => k.startsWith('NODE_') || k.startsWith('UV_'))
    .sort()
    .map((k) => `${k}=${process.env[k]}`);
  return JSON.stringify([process.execPath, childArgs(), nodeEnv]);
}

/**
 * The modules a started child imported its target from (the main module, for a function it
 * exports): a child has imported each, so a spare may import it ahead of time. Only those: a
 * script without the main-module guard whose targets live elsewhere is never run in a spare.
 */
const imported = new Set<string>();
const MAX_IMPORTED = 16;

/** Called by the 'forkserver' backend at each start. */
export function noteTarget(spec: TargetSpec): void {
  if (spec.kind !== 'export' || imported.has(spec.url) || imported.size >= MAX_IMPORTED) return;
  imported.add(spec.url);
  // New spares preload it; the idle ones import it at their start, as before.
}

/** What a spare imports while it waits: the targets' modules, then `preload`, less those that failed. */
function preloads(): string[] {
  return [...new Set([...imported, ...preloadUrls])].filter((u) => !failedPreloads.has(u));
}

/**
 * A preload threw (or ended the spare): said once, as Python's forkserver goes on without a
 * module it cannot import; a child of a target there imports it at start(), as under 'spawn'.
 */
function preloadFailed(failed: SpareReadyMessage['failed']): void {
  for (const { url, error } of failed) {
    if (failedPreloads.has(url)) continue;
    failedPreloads.add(url);
    const what = url === mainModuleUrl() ? `the main module ${url}` : `${url}`;
    process.emitWarning(
      `'forkserver' spares do not preload ${what}: ${error.split('\n')[0].replace(/\.$/, '')}. Children import it at start() instead, as under 'spawn'.`,
      'MultiprocWarning',
    );
  }
}

/** Retires the spares booted otherwise, or holding a module no longer to be preloaded (one that lacks a module imports it at start). */
function retireStale(key: string): void {
  const wanted = new Set(preloads());
  for (const s of [...pool]) if (s.key !== key || s.preloaded.some((url) => !wanted.has(url))) retire(s);
}

/** Spares booting at once: all cores but one, so the program keeps a core while the pool refills. */
const concurrency = () => Math.max(1, (require('node:os') as typeof import('node:os')).availableParallelism() - 1);

function refillSoon(): void {
  if (refillTimer) return;
  const wait = pool.length === 0 ? 0 : Math.max(0, lastStart + QUIET_MS - performance.now());
  refillTimer = setTimeout(() => {
    refillTimer = null;
    if (performance.now() - lastStart < QUIET_MS && pool.length > 0) refillSoon();
    else refill();
  }, wait);
  refillTimer.unref();
}

/** `now`: someone waits for the spares (forkserverReady), so starts under way do not defer them. */
function refill(now = false): void {
  if (!inUse || bootFailure !== null) return;
  if (!now && !wakers.size && pool.length > 0 && performance.now() - lastStart < QUIET_MS) return refillSoon();
  const key = bootKey();
  while (pool.length < options.spares && pool.filter((s) => !s.ready).length < concurrency()) {
    try {
      pool.push(boot(key, true));
    } catch (err) {
      bootFailure = `could not be started (${(err as Error).message})`;
      wake();
      return;
    }
  }
}

/** `spare`: boot as a spare (warm up, say when ready); otherwise the process is for a start() under way. */
function boot(key: string, spare: boolean): Spare {
  const { spawn } = require('node:child_process') as typeof import('node:child_process');
  const cp = spawn(process.execPath, childArgs(), {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    serialization: 'advanced',
    env: spare ? { ...process.env, [SPARE_ENV]: '1' } : process.env,
  });
  if (cp.pid === undefined) {
    cp.on('error', () => {});
    throw new ProcessError(`could not start a child process (${process.execPath} ${childArgs().join(' ')})`);
  }
  cp.on('error', () => {});
  // Until start() takes it, nothing here waits for this process.
  cp.unref();
  cp.channel?.unref();
  const entry: Spare = { cp, key, preloaded: spare ? preloads() : [], ready: false, timer: null, detach: () => {} };
  if (!spare) return entry;
  cp.send({ multiproc: 'warm-up', sample: sampleMessage(), preload: entry.preloaded as string[] } satisfies SpareWarmUpMessage, () => {});
  let preloading: string | null = null;
  const onMessage = (m: any) => {
    if (m?.multiproc === 'spare-preloading') preloading = m.url;
    if (m?.multiproc !== 'spare-ready') return;
    preloading = null;
    if (m.failed?.length) {
      // Its module map holds a module that threw: retire it; the next spares boot without that module.
      preloadFailed(m.failed);
      retire(entry);
      refill();
      return;
    }
    entry.ready = true;
    armIdleTimer(entry);
    refill();
    wake();
  };
  const onExit = (code: number | null, signal: string | null) => {
    if (!pool.includes(entry)) return;
    remove(entry);
    if (preloading !== null) {
      preloadFailed([{ url: preloading, error: `the spare ended (${signal ?? `exit code ${code}`}) while importing it` }]);
      refill();
    } else if (!entry.ready) bootFailure = `ended (${signal ?? `exit code ${code}`})`;
    wake();
  };
  cp.on('message', onMessage);
  cp.on('exit', onExit);
  entry.detach = () => {
    if (entry.timer) clearTimeout(entry.timer);
    cp.removeListener('message', onMessage);
    cp.removeListener('exit', onExit);
  };
  return entry;
}

/** A start-up message of the real one's shape, for no process. */
function sampleMessage(): BootstrapMessage {
  const prep: PrepData = {
    name: 'warm-up',
    identity: [0],
    authkey: new Uint8Array(32),
    daemon: false,
    parentName: 'MainProcess',
    parentPid: process.pid,
    lineage: [process.pid],
    startMethod: 'forkserver',
    target: { kind: 'none' },
    cls: null,
    log: null,
    trace: null,
  };
  return { multiproc: 'bootstrap', prep, object: dumps({ args: [], kwargs: undefined, fields: {} }, NO_HANDLES), environ: { env: { ...process.env }, cwd: null } };
}

const NO_HANDLES: TransferContext = {
  kind: 'spawn',
  duplicateForChild() {
    throw new Error('no handles in a sample message');
  },
};

const MAX_TIMER_MS = 2 ** 31 - 1;

function armIdleTimer(spare: Spare): void {
  if (spare.timer) clearTimeout(spare.timer);
  spare.timer = null;
  const ms = options.idleTimeout === null ? Infinity : options.idleTimeout * 1000;
  if (ms > MAX_TIMER_MS) return; // setTimeout would fire at once
  spare.timer = setTimeout(() => retire(spare), ms);
  spare.timer.unref();
}

function retire(spare: Spare): void {
  remove(spare);
  spare.detach();
  spare.cp.kill('SIGKILL');
}

function remove(spare: Spare): void {
  const i = pool.indexOf(spare);
  if (i >= 0) pool.splice(i, 1);
}

function wake(): void {
  for (const w of [...wakers]) w();
}
