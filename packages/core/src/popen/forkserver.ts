import type { BootstrapMessage } from '../protocol';
import type { LentHandle, TransferContext } from '../reduction';
import { routeChild } from '../route';
import { sendHandles } from './late-handles';
import type { LaunchSpec, Popen, StartMethodBackend } from './popen';
import { noteTarget, takeSpare } from './spares';
import { SpawnPopen } from './spawn-popen';

/**
 * 'forkserver': the child is a spare Node process booted ahead of time (see spares.ts), so
 * `start()` costs a message instead of a Node boot. What 'spawn' fixes when it spawns — the
 * environment, the working directory — travels in the start-up message and the child takes it
 * on before it imports anything; the rest of a child's start is the same as with 'spawn'.
 */
export const forkserverBackend: StartMethodBackend = {
  name: 'forkserver',
  launch(spec: LaunchSpec): Popen {
    const handles: LentHandle[] = [];
    const ctx: TransferContext = {
      kind: 'spawn',
      // The process already runs, so no stdio slot is left: every handle follows the start-up
      // message over the IPC channel (Python's popen_forkserver also sends fds after the fork).
      lateHandles: true,
      duplicateForChild(handle) {
        handles.push('sent' in handle ? handle : { socket: Promise.resolve(handle), sent: () => {} });
        return { handle: handles.length - 1 };
      },
    };
    const object = spec.dumpObject(ctx); // throws before a spare is taken
    const cp = takeSpare();
    noteTarget(spec.prep.target);
    routeChild(cp);
    const message: BootstrapMessage = { multiproc: 'bootstrap', prep: spec.prep, object, environ: { env: { ...process.env }, cwd: currentDirectory() } };
    const popen = new SpawnPopen(cp, message, spec.daemon);
    sendHandles(cp, handles);
    return popen;
  },
};

/** null when this process's working directory was removed: the child then stays where it booted. */
function currentDirectory(): string | null {
  try {
    return process.cwd();
  } catch {
    return null;
  }
}
