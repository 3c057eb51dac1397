// join() waits for a process to end, daemonic or not: the daemon now gets to print its
// "Exiting :" line because the main program waits for it.
// Port of Python's multiprocessing_daemon_join.py (PyMOTW).
import { setTimeout as sleep } from 'node:timers/promises';
import { Process, currentProcess, isMainModule } from 'multiproc';

export async function daemon(): Promise<void> {
  console.log('Starting:', currentProcess().name);
  await sleep(2000);
  console.log('Exiting :', currentProcess().name);
}

export function nonDaemon(): void {
  console.log('Starting:', currentProcess().name);
  console.log('Exiting :', currentProcess().name);
}

if (isMainModule(import.meta)) {
  const d = new Process({ name: 'daemon', target: daemon });
  d.daemon = true;

  const n = new Process({ name: 'non-daemon', target: nonDaemon });
  n.daemon = false;

  d.start();
  await sleep(1000);
  n.start();

  await d.join();
  await n.join();
}
