// A daemonic process does not keep its parent alive: when the main program ends (here once
// the non-daemonic child has finished) the daemon is terminated, so its "Exiting :" line is
// never printed.
// Port of Python's multiprocessing_daemon.py (PyMOTW). No sys.stdout.flush() needed: Node
// writes console output to a pipe or file synchronously.
import { setTimeout as sleep } from 'node:timers/promises';
import { Process, currentProcess, isMainModule } from 'multiproc';

export async function daemon(): Promise<void> {
  const p = currentProcess();
  console.log('Starting:', p.name, p.pid);
  await sleep(2000);
  console.log('Exiting :', p.name, p.pid);
}

export function nonDaemon(): void {
  const p = currentProcess();
  console.log('Starting:', p.name, p.pid);
  console.log('Exiting :', p.name, p.pid);
}

if (isMainModule(import.meta)) {
  const d = new Process({ name: 'daemon', target: daemon });
  d.daemon = true;

  const n = new Process({ name: 'non-daemon', target: nonDaemon });
  n.daemon = false;

  d.start();
  await sleep(1000);
  n.start();
}
