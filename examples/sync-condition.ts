// A producer and two consumers share a 4-slot ring buffer in shared memory, guarded by one Lock
// and two Conditions over it (Python's queue.Queue does the same with not_empty and not_full).
// The pattern from Python's docs for Condition:
//
//     with cv:                                  with cv:
//         while not an_item_is_available():         make_an_item_available()
//             cv.wait()                             cv.notify()
//         get_an_available_item()
import { Process, isMainModule } from 'multiproc';
import { RawArray } from '@multiproc/shared';
import { Condition, Lock } from '@multiproc/sync';

const SLOTS = 4;
const ITEMS = 20;
const CONSUMERS = 2;
// state: [0] items in the buffer, [1] next slot to write, [2] next slot to read,
//        [3] items consumed, [4] their sum
const COUNT = 0, WRITE = 1, READ = 2, TAKEN = 3, SUM = 4;

export async function producer(notEmpty: Condition, notFull: Condition, buf: Int32Array, state: Int32Array): Promise<void> {
  // 1..ITEMS, then one 0 per consumer: "no more".
  const items = [...Array.from({ length: ITEMS }, (_, i) => i + 1), ...Array(CONSUMERS).fill(0)];
  for (const item of items) {
    using _ = await notFull.hold();
    await notFull.waitFor(() => state[COUNT] < SLOTS);
    buf[state[WRITE]] = item;
    state[WRITE] = (state[WRITE] + 1) % SLOTS;
    state[COUNT]++;
    notEmpty.notify();
  }
}

export async function consumer(name: string, notEmpty: Condition, notFull: Condition, buf: Int32Array, state: Int32Array): Promise<void> {
  let taken = 0;
  for (;;) {
    using _ = await notEmpty.hold();
    await notEmpty.waitFor(() => state[COUNT] > 0);
    const item = buf[state[READ]];
    state[READ] = (state[READ] + 1) % SLOTS;
    state[COUNT]--;
    notFull.notify();
    if (item === 0) break;
    taken++;
    state[TAKEN]++;
    state[SUM] += item;
  }
  console.log(`consumer ${name}: took ${taken} items`);
}

if (isMainModule(import.meta)) {
  const lock = new Lock();
  const notEmpty = new Condition(lock);
  const notFull = new Condition(lock);
  const buf = RawArray('i', SLOTS);
  const state = RawArray('i', 5);
  const procs = [
    new Process({ target: producer, args: [notEmpty, notFull, buf, state] }),
    ...['A', 'B'].map((name) => new Process({ target: consumer, args: [name, notEmpty, notFull, buf, state] })),
  ];
  for (const p of procs) p.start();
  for (const p of procs) await p.join();
  console.log(`consumed ${state[TAKEN]} of ${ITEMS} items, sum ${state[SUM]} (expected ${(ITEMS * (ITEMS + 1)) / 2})`);
}
