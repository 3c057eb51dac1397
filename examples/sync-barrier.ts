// A race that starts fair: four runners wait at a Barrier, so none runs before all are ready
// (starting a process takes tens of ms; the first started would otherwise be far ahead). The
// last to arrive runs the barrier's action ("go!") before any is let through. Each runner then
// counts to 2,000,000 and takes its place from a shared counter (Atomics.add: one step).
import { Process, isMainModule } from 'multiproc';
import { RawArray } from '@multiproc/shared';
import { Barrier } from '@multiproc/sync';

const RUNNERS = 4;

export function go(): void {
  console.log('go!');
}

export async function runner(barrier: Barrier, places: Int32Array, n: number): Promise<void> {
  const arrival = await barrier.wait(); // 0 .. RUNNERS - 1, as Python's wait() returns
  let x = 0;
  for (let i = 0; i < 2_000_000; i++) x += i & 1;
  if (x !== 1_000_000) throw new Error(`miscounted: ${x}`);
  const place = Atomics.add(places, 0, 1) + 1;
  places[n] = place;
  console.log(`runner ${n}: arrived ${arrival}, finished ${place}`);
}

if (isMainModule(import.meta)) {
  const barrier = new Barrier(RUNNERS, { action: go, timeout: 30 });
  const places = RawArray('i', RUNNERS + 1); // [0]: places taken so far; [n]: runner n's place
  const procs = Array.from({ length: RUNNERS }, (_, i) => new Process({ target: runner, args: [barrier, places, i + 1] }));
  for (const p of procs) p.start();
  for (const p of procs) await p.join();
  console.log(`winner: runner ${places.indexOf(1, 1)}`);
}
