// Four processes add 1 to one shared counter 1,000,000 times each. With `v.value += 1` (a read,
// then a write) two processes can read the same number and both write it plus one: an update
// is lost. `Atomics.add` on the value's view is one indivisible step: the total is exact.
// (Python: the same race with `v.value += 1`; the fix there is `with v.get_lock():`, which
// comes here with @multiproc/sync.)
import { Process, isMainModule } from 'multiproc';
import { RawValue, Value } from '@multiproc/shared';

const PROCESSES = 4;
const TIMES = 1_000_000;

/** Waits until every process has started, so that they run at the same time (or nothing races). */
function startTogether(ready: RawValue<'i'>): void {
  Atomics.add(ready.view, 0, 1);
  while (Atomics.load(ready.view, 0) < PROCESSES);
}

export function plainAdd(v: Value<'i'>, ready: RawValue<'i'>, times: number): void {
  startTogether(ready);
  for (let i = 0; i < times; i++) v.value += 1;
}

export function atomicAdd(v: Value<'i'>, ready: RawValue<'i'>, times: number): void {
  startTogether(ready);
  const view = v.getObj().view; // an Int32Array over the shared memory
  for (let i = 0; i < times; i++) Atomics.add(view, 0, 1);
}

async function run(target: typeof plainAdd): Promise<number> {
  const v = new Value('i', 0);
  const ready = new RawValue('i', 0);
  const procs = Array.from({ length: PROCESSES }, () => new Process({ target, args: [v, ready, TIMES] }));
  for (const p of procs) p.start();
  for (const p of procs) await p.join();
  return v.value;
}

if (isMainModule(import.meta)) {
  const expected = PROCESSES * TIMES;
  const plain = await run(plainAdd);
  console.log(`v.value += 1: ${plain} of ${expected} (lost ${expected - plain} updates)`);
  const atomic = await run(atomicAdd);
  console.log(`Atomics.add: ${atomic} of ${expected} (lost ${expected - atomic} updates)`);
}
