// Targets our Process workloads run in the child, by module reference (as mp_bench.py's are
// module-level functions the child imports).
import { openSync, writeSync, closeSync } from 'node:fs';

export function noop() {}

/** process_first_instruction_ms: the first statement records CLOCK_MONOTONIC (as Python's does). */
export function firstInstruction(file) {
  const t = process.hrtime.bigint();
  const fd = openSync(file, 'w');
  writeSync(fd, String(t));
  closeSync(fd);
}

/** terminate_ms: tell the parent we run (through a FIFO), then sleep "1000 s". */
export function sleeper(fifo) {
  const fd = openSync(fifo, 'w');
  writeSync(fd, 'r');
  closeSync(fd);
  return new Promise((resolve) => setTimeout(resolve, 1_000_000));
}
