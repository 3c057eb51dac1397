import { inspect } from 'node:util';
import { joinChildrenAtExit, runChildExitHooks } from '../finalize';
import { info, takeLogPrep } from '../log/logger';
import { socketOverFd } from '../node-internals';
import { ParentProcess } from '../parent-process';
import { Process, processInternals } from '../process';
import { countedChannel, routeParent } from '../route';
import { isBootstrapMessage, SPARE_ENV, type BootstrapMessage, type ExitingMessage, type SparePreloadingMessage, type SpareReadyMessage, type SpareWarmUpMessage } from '../protocol';
import { loads, type RebuildContext } from '../reduction';
import { state } from '../state';
import { importAhead, loadTarget, TargetLoadError } from '../target/load';
import { flowId, record, recordFlow, startRecording, tracing } from '../trace/recorder';
import { Sentinel } from '../wait';
import { endAtOnce, nativeExit } from './exit';
import { flushStdio, writeStdioSynchronously } from './stdio';
import { handlesArrived, listenForHandles, receiveHandle } from './late-handles';

/** Handles that arrived in stdio slots at spawn: the token is the fd. */
const spawnRebuildContext: RebuildContext = {
  kind: 'spawn',
  detachHandle(token) {
    const t = token as { fd: number } | { handle: number };
    if ('handle' in t) return receiveHandle(t.handle);
    // manualStart: the receiving Connection decides when to read (it may pass the end on, unread).
    return socketOverFd(t.fd, { manualStart: true });
  },
};

/**
 * The child's side of `start()` (Python's `spawn._main` and `BaseProcess._bootstrap`): become
 * the Process, import the target's module, run it, and exit with its exit code.
 */
export async function runChildProcess(): Promise<never> {
  // Before anything can print: output written right before process.exit() is not lost.
  writeStdioSynchronously();
  const spare = process.env[SPARE_ENV] !== undefined;
  delete process.env[SPARE_ENV];
  listenForHandles();
  routeParent();
  // Before a spare preloads the main module: ours stays the first of the 'exit' listeners.
  process.on('exit', announceExit);
  endAtOnce();
  const arriving = startupMessage();
  if (spare) await warmUp();
  const message = await arriving;
  const { prep, environ } = message;
  state.identity = prep.identity;
  state.name = prep.name;
  state.authkey = Buffer.from(prep.authkey);
  state.daemon = prep.daemon;
  state.counter = 0;
  state.children = new Set();
  state.startMethod = prep.startMethod;
  state.lineage = prep.lineage;
  state.parent = new ParentProcess(prep.parentName, prep.parentPid, watchParent());
  takeLogPrep(prep.log);
  if (prep.trace && startRecording(prep.trace.events, false)) {
    // This row's span (the parent ends it when it sees this process end) and the start's arrow.
    record({ ph: 'B', name: state.name, cat: 'process', args: { pid: process.pid, parentPid: prep.parentPid } });
    recordFlow('in', 'bootstrap', 'process', flowId(`start:${process.pid}`), { startMethod: prep.startMethod });
  }

  let code = 1;
  try {
    if (environ) takeOn(environ);
    state.bootstrapping = true;
    let cls: Function | null;
    let target: Function | null;
    try {
      cls = prep.cls ? await loadTarget(prep.cls) : null;
      target = await loadTarget(prep.target);
    } finally {
      state.bootstrapping = false;
    }
    const { args, kwargs, fields } = loads(message.object, spawnRebuildContext) as {
      args: unknown[];
      kwargs: Record<string, unknown> | undefined;
      fields: Record<string, unknown>;
    };
    // Connections among the arguments whose sockets come over the channel (under 'forkserver')
    // attach as their handles arrive, in reactions registered before this wait's.
    await handlesArrived();
    const { name, identity, daemon } = state;
    const self = processInternals.create(cls ?? Process, { name, identity, daemon, authkey: state.authkey!, pid: process.pid });
    Object.assign(self, fields);
    processInternals.setTarget(self, target, args, kwargs);
    state.current = self;
    try {
      info('child process calling self.run()');
      await self.run();
      code = typeof process.exitCode === 'number' ? process.exitCode : 0;
    } catch (err) {
      report(err);
    }
  } catch (err) {
    if (err instanceof TargetLoadError) process.stderr.write(`Process ${state.name}: ${err.message}\n`);
    else report(err);
  }
  await joinChildrenAtExit();
  await runChildExitHooks();
  info('process exiting with exitcode %d', code);
  if (tracing()) record({ ph: 'i', name: 'exit', cat: 'process', s: 'p', args: { exitCode: code } });
  await flushStdio();
  process.exit(code);
}

/**
 * The first message on the channel; the channel then stops keeping this process alive. A parent
 * that goes before sending it (a spare's parent ending) ends this process at once, silently.
 */
function startupMessage(): Promise<BootstrapMessage> {
  return new Promise((resolve) => {
    const onGone = () => process.exit(0);
    const onMessage = (m: unknown) => {
      if (!isBootstrapMessage(m)) return;
      process.removeListener('message', onMessage);
      process.removeListener('disconnect', onGone);
      process.channel?.unref();
      resolve(m);
    };
    process.on('message', onMessage);
    if (!process.connected) onGone();
    process.once('disconnect', onGone);
  });
}

/**
 * A spare does now what every child would otherwise do after `start()`: set up the ES module
 * loader (a target's first import pays for it; our ESM entry is what targets import) and the
 * modules the bootstrap uses.
 */
async function warmUp(): Promise<void> {
  // The first message of a shape a Node process reads costs ~1 ms more than the next: the parent
  // sends a sample at boot, so the start-up message is not the first.
  const { sample, preload } = await new Promise<SpareWarmUpMessage>((resolve) => {
    const onMessage = (m: any) => {
      if (m?.multiproc !== 'warm-up') return;
      process.removeListener('message', onMessage);
      resolve(m);
    };
    process.on('message', onMessage);
  });
  // A rehearsal of the bootstrap's first steps, on nothing: the real start then runs compiled code.
  loads(sample.object, spawnRebuildContext);
  processInternals.create(Process, { name: sample.prep.name, identity: [], daemon: false, authkey: Buffer.alloc(0), pid: null });
  await loadTarget(sample.prep.target);
  const { join } = require('node:path') as typeof import('node:path');
  const { pathToFileURL } = require('node:url') as typeof import('node:url');
  await import(pathToFileURL(join(__dirname, 'index.mjs')).href);
  require('node:net');
  nativeExit();
  const failed = await preloadModules(preload);
  // With a callback a failed send (the parent just ended: EPIPE) is not an 'error' event that kills
  // this spare loudly; the 'disconnect' that follows ends it silently.
  if (process.connected) process.send!({ multiproc: 'spare-ready', failed } satisfies SpareReadyMessage, () => {});
}

/**
 * Python's forkserver preload: the parent's main module (its main-module guard keeps its main
 * code out, as `__main__`'s is in Python) and the modules named in `preload`, so a start of one
 * of their exports imports nothing. This is a bootstrapping phase: starting a process throws.
 */
async function preloadModules(urls: string[]): Promise<SpareReadyMessage['failed']> {
  const failed: SpareReadyMessage['failed'] = [];
  state.bootstrapping = true;
  try {
    for (const url of urls) {
      // If the module's top level ends this process, the parent knows which module did it.
      if (process.connected) process.send!({ multiproc: 'spare-preloading', url } satisfies SparePreloadingMessage, () => {});
      try {
        await importAhead(url);
      } catch (err) {
        failed.push({ url, error: err instanceof Error ? `${err.name}: ${err.message}` : inspect(err) });
      }
    }
  } finally {
    state.bootstrapping = false;
  }
  return failed;
}

/** A spare booted earlier takes on the parent's environment and working directory of `start()`. */
function takeOn({ env, cwd }: NonNullable<BootstrapMessage['environ']>): void {
  // Every access to process.env calls into C++: change only what differs from the boot's.
  const now = { ...process.env };
  for (const key in now) if (!(key in env)) delete process.env[key];
  for (const key in env) if (now[key] !== env[key]) process.env[key] = env[key];
  if (cwd === null) return;
  try {
    process.chdir(cwd);
  } catch (err: any) {
    throw new TargetLoadError(`cannot enter the working directory the parent had at start() (${cwd}): ${err?.code ?? err}`);
  }
}

/** The parent is gone when its end of the channel closes. A daemonic child then ends itself. */
function watchParent(): Sentinel {
  // The channel is unref'd; whoever waits on the parent's end holds it.
  const sentinel = new Sentinel(`of parent process ${process.ppid}`, countedChannel(process.channel));
  const onGone = () => {
    sentinel.set();
    if (state.daemon) process.kill(process.pid, 'SIGTERM');
  };
  if (!process.connected) onGone();
  else process.once('disconnect', onGone);
  return sentinel;
}

/**
 * Tells the parent the exit code before Node's own exit runs (first of the 'exit' listeners: ours
 * is added before the target's module loads). A small message on an idle channel is written
 * at once, so it leaves even though nothing runs after 'exit'.
 */
function announceExit(code: number): void {
  // A parent that died moments ago may not have been noticed yet: we were adopted then.
  if (!process.connected || process.ppid !== bornOf) return endOrphan(code);
  try {
    process.send!({ multiproc: 'exiting', code } satisfies ExitingMessage, () => {});
  } catch {
    // The parent is gone: nobody waits for the code.
  }
}

/**
 * Node can hang in its own exit, after every 'exit' listener (nodejs/node#54918: the main
 * thread joins a platform thread that waits forever); a parent ends such a child 3 s after it
 * announced its code, but an orphan has nobody to do that, and would linger. So an orphan runs the
 * 'exit' listeners still to come (what was sent and printed is written already: those listeners
 * come first) and then ends itself. Its exit code goes to nobody.
 */
const bornOf = process.ppid;

function endOrphan(code: number): void {
  const listeners = process.listeners('exit');
  for (const listener of listeners.slice(listeners.indexOf(announceExit) + 1)) {
    try {
      listener.call(process, code);
    } catch (err) {
      report(err);
    }
  }
  process.kill(process.pid, 'SIGKILL');
}

/** As Python prints `Process <name>:` and the traceback. */
function report(err: unknown): void {
  const text = err instanceof Error && err.stack ? err.stack : inspect(err);
  process.stderr.write(`Process ${state.name}:\n${text}\n`);
}
