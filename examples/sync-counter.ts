// Four processes add 1 to one shared counter, each holding the Value's own lock around
// `v.value += 1` (a read, then a write): no update is lost. Python:
//
//     with counter.get_lock():
//         counter.value += 1
//
// once with the await form (`using _ = await lock.hold()`, Python's `with`), once with the sync
// form (acquireSync: blocks the event loop while it waits, fine in a loop that does nothing else).
import { Process, isMainModule } from 'multiproc';
import { Value } from '@multiproc/shared';
import '@multiproc/sync'; // gives Value its lock (an RLock, as Python's)

const PROCESSES = 4;
const TIMES = 10_000;

export async function addAwaited(counter: Value<'i'>, times: number): Promise<void> {
  const lock = counter.getLock();
  for (let i = 0; i < times; i++) {
    using _ = await lock.hold();
    counter.value += 1;
  }
}

export function addSync(counter: Value<'i'>, times: number): void {
  const lock = counter.getLock();
  for (let i = 0; i < times; i++) {
    lock.acquireSync();
    try {
      counter.value += 1;
    } finally {
      lock.release();
    }
  }
}

async function run(target: typeof addAwaited | typeof addSync): Promise<number> {
  const counter = new Value('i', 0);
  const procs = Array.from({ length: PROCESSES }, () => new Process({ target, args: [counter, TIMES] }));
  for (const p of procs) p.start();
  for (const p of procs) await p.join();
  return counter.value;
}

if (isMainModule(import.meta)) {
  const expected = PROCESSES * TIMES;
  console.log(`await lock.hold(): ${await run(addAwaited)} of ${expected}`);
  console.log(`lock.acquireSync(): ${await run(addSync)} of ${expected}`);
}
