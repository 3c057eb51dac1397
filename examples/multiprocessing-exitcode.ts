// Exit codes: 0 when the target returns (whatever it returns), 1 when it throws (the child
// prints "Process <name>:" and the stack to stderr, as Python prints the traceback), n for
// process.exit(n), -N when ended by signal N (-15 after terminate()).
// Port of Python's multiprocessing_exitcode.py (PyMOTW). The functions keep their Python names
// because the output prints them.
import { setTimeout as sleep } from 'node:timers/promises';
import { Process, isMainModule } from 'multiproc';

export function exit_error(): void {
  process.exit(1);
}

export function exit_ok(): void {
  return;
}

export function return_value(): number {
  return 1;
}

export function raises(): never {
  throw new Error('There was an error!');
}

export async function terminated(): Promise<void> {
  await sleep(3000);
}

if (isMainModule(import.meta)) {
  const jobs: Process[] = [];
  for (const f of [exit_error, exit_ok, return_value, raises, terminated]) {
    console.log('Starting process for', f.name);
    const j = new Process({ target: f, name: f.name });
    jobs.push(j);
    j.start();
  }

  jobs.at(-1)!.terminate();

  for (const j of jobs) {
    await j.join();
    console.log(`${j.name}.exitcode = ${j.exitCode}`);
  }
}
