// The Python documentation's "example usage of some of the methods of Process": the repr and
// isAlive() through a process's life, and the exit code of a terminated process.
// Port of the doc example with target=time.sleep, args=(1000,). Here the target is Node's own
// sleep, passed as a module reference (a built-in function cannot be shipped to a child, but
// the child can import it): setTimeout from node:timers/promises, with 1000 s in ms.
import { constants } from 'node:os';
import { Process, isMainModule } from 'multiproc';

if (isMainModule(import.meta)) {
  const p = new Process({ target: { module: 'node:timers/promises', export: 'setTimeout' }, args: [1000 * 1000] });
  console.log(p, p.isAlive());

  p.start();
  console.log(p, p.isAlive());

  p.terminate();
  // The doc sleeps 0.1 s here and hopes the child is gone by then; that races (a loaded machine
  // may take longer to deliver the signal and report the exit). join() waits for the exit itself.
  await p.join();
  console.log(p, p.isAlive());

  console.log(p.exitCode === -constants.signals.SIGTERM);
}
