// Every test process: Vitest ends its worker processes with SIGTERM, which skips 'exit'
// listeners, and those remove what the library made for the process (a Queue's broker directory
// in /dev/shm). Ending on SIGTERM through process.exit() lets them run.
const graceful = Symbol.for('multiproc.test.graceful-sigterm');
if (!(globalThis as Record<symbol, unknown>)[graceful]) {
  (globalThis as Record<symbol, unknown>)[graceful] = true;
  process.once('SIGTERM', () => process.exit(143));
}
