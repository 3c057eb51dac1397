// A Pool sums slices of one big shared array. Each task gets `data.subarray(from, to)`: a view
// of the same shared memory, not a copy, so handing out 8 × 4 MB costs what handing out 8
// numbers does. (Python: a RawArray reaches Pool workers only through the initializer.)
import { Pool, isMainModule } from 'multiproc';
import { RawArray } from '@multiproc/shared';

const LENGTH = 4_000_000; // 32 MB of doubles
const TASKS = 8;

export function sum(slice: Float64Array): number {
  let s = 0;
  for (let i = 0; i < slice.length; i++) s += slice[i];
  return s;
}

if (isMainModule(import.meta)) {
  const data = RawArray('d', LENGTH);
  for (let i = 0; i < LENGTH; i++) data[i] = i % 10;
  const step = LENGTH / TASKS;
  const slices = Array.from({ length: TASKS }, (_, k) => data.subarray(k * step, (k + 1) * step));
  await using pool = new Pool(2);
  const sums = await pool.map(sum, slices);
  console.log(`per slice: ${sums.join(' ')}`);
  console.log(`total: ${sums.reduce((a, b) => a + b, 0)} (local: ${sum(data)})`);
}
