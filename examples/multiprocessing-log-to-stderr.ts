// Logs the life of a child process to stderr, at DEBUG: the lines name the process they come from.
// Port of Python's multiprocessing_log_to_stderr.py (PyMOTW "Logging").
import { DEBUG, Process, isMainModule, logToStderr } from 'multiproc';

export function worker(): void {
  console.log('Doing some work');
}

if (isMainModule(import.meta)) {
  logToStderr(DEBUG);
  const p = new Process({ target: worker });
  p.start();
  await p.join();
}
