import { debug, info } from './log/logger';
import { state, type ProcessLike } from './state';

/**
 * What happens to children when this process ends (Python's `util._exit_function`): daemonic
 * children are terminated; non-daemonic ones keep the event loop alive, so a program that
 * simply ends waits for them, as Python joins them at exit.
 */
let exitHookInstalled = false;
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
let signalHooksInstalled = false;

/** Python's `_exit_function` says it once, in the main process at exit as in a child after run(). */
let shuttingDown = false;
function shutdown(): void {
  if (shuttingDown) return;
  shuttingDown = true;
  info('process shutting down');
}

function atExit(): void {
  shutdown();
  terminateDaemonicChildren();
}

export function terminateDaemonicChildren(): void {
  for (const p of state.children) {
    if (!p.daemon || p.exitCode !== null) continue;
    info('calling terminate() for daemon %s', p.name);
    p.terminate();
  }
}

/** Called by Process.start() for every child. */
export function childStarted(p: ProcessLike): void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    // 'exit' runs on a natural end, process.exit() and an uncaught exception alike.
    process.on('exit', atExit);
  }
  if (p.daemon) updateSignalHooks();
}

export function childEnded(p: ProcessLike): void {
  state.children.delete(p);
  if (p.daemon) updateSignalHooks();
}

/**
 * A signal that kills this process skips 'exit', so while daemonic children live we catch the
 * usual fatal signals, terminate them, and re-raise the signal with its default action, unless
 * the program handles that signal itself (then it decides whether to end).
 */
function updateSignalHooks(): void {
  const needed = [...state.children].some((c) => c.daemon && c.exitCode === null);
  if (needed === signalHooksInstalled) return;
  signalHooksInstalled = needed;
  for (const sig of SIGNALS) {
    if (needed) process.on(sig, onFatalSignal);
    else process.removeListener(sig, onFatalSignal);
  }
}

function onFatalSignal(sig: NodeJS.Signals): void {
  if (process.listenerCount(sig) > 1) return;
  terminateDaemonicChildren();
  for (const s of SIGNALS) process.removeListener(s, onFatalSignal);
  signalHooksInstalled = false;
  process.kill(process.pid, sig);
}

/** The child's end of run(): terminate daemonic children, then wait for the others. */
export async function joinChildrenAtExit(): Promise<void> {
  shutdown();
  terminateDaemonicChildren();
  await Promise.all(
    [...state.children].map((p) => {
      info('calling join() for process %s', p.name);
      return p.join();
    }),
  );
  debug('running the remaining "atexit" finalizers');
}

const exitHooks: (() => Promise<void> | void)[] = [];

/**
 * Work a child must finish before it exits after its target returns — flushing what Connections
 * have written but the kernel has not taken yet (Python's exit joins its feeder threads).
 */
export function atChildExit(hook: () => Promise<void> | void): void {
  exitHooks.push(hook);
}

export async function runChildExitHooks(): Promise<void> {
  for (const hook of exitHooks) await hook();
}
