// join(timeout) gives up after `timeout` seconds (and resolves, as Python's returns None):
// the daemon, sleeping for 6 s, is still alive after join(3). The main program then ends, which
// terminates the daemon before it prints "Exiting :".
// Port of Python's multiprocessing_daemon_join_timeout.py (PyMOTW), whose daemon sleeps 2 s and is
// joined for 1 s: a Node child loading a TypeScript module on a busy machine can take longer than
// that to print "Starting:", so here the margins are wider.
import { setTimeout as sleep } from 'node:timers/promises';
import { Process, currentProcess, isMainModule } from 'multiproc';

export async function daemon(): Promise<void> {
  console.log('Starting:', currentProcess().name);
  await sleep(6000);
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
  n.start();

  await d.join(3);
  console.log('d.isAlive()', d.isAlive());
  await n.join();
}
