// terminate() sends SIGTERM. The object only learns that the child has ended once join() (or
// isAlive() later) sees it, so right after terminate() it still reads "started"; after join()
// it reads stopped[SIGTERM]. Python prints True/False, JavaScript true/false.
// Port of Python's multiprocessing_terminate.py (PyMOTW).
import { setTimeout as sleep } from 'node:timers/promises';
import { Process, isMainModule } from 'multiproc';

export async function slowWorker(): Promise<void> {
  console.log('Starting worker');
  await sleep(100);
  console.log('Finished worker');
}

if (isMainModule(import.meta)) {
  const p = new Process({ target: slowWorker });
  console.log('BEFORE:', p, p.isAlive());

  p.start();
  console.log('DURING:', p, p.isAlive());

  p.terminate();
  console.log('TERMINATED:', p, p.isAlive());

  await p.join();
  console.log('JOINED:', p, p.isAlive());
}
