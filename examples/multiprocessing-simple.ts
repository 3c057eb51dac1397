// Starts five processes that each print "Worker".
// Port of Python's multiprocessing_simple.py (PyMOTW "Creating processes").
import { Process, isMainModule } from 'multiproc';

/** worker function */
export function worker(): void {
  console.log('Worker');
}

if (isMainModule(import.meta)) {
  const jobs: Process[] = [];
  for (let i = 0; i < 5; i++) {
    const p = new Process({ target: worker });
    jobs.push(p);
    p.start();
  }
}
