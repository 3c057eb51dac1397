// Passes an argument to each child: five processes print "Worker: 0" … "Worker: 4", in
// whatever order they get to run. Arguments travel by structured clone (Python: "must be
// picklable"), so pass data, not functions or sockets.
// Port of Python's multiprocessing_simpleargs.py (PyMOTW).
import { Process, isMainModule } from 'multiproc';

/** thread worker function */
export function worker(num: number): void {
  console.log('Worker:', num);
}

if (isMainModule(import.meta)) {
  const jobs: Process[] = [];
  for (let i = 0; i < 5; i++) {
    const p = new Process({ target: worker, args: [i] });
    jobs.push(p);
    p.start();
  }
}
