// A Pool with an initializer: each worker builds an expensive table once, then every task uses it.
// (Python: `Pool(2, initializer=load, initargs=(256,))`.)
import { Pool, isMainModule } from 'multiproc';

let table: number[] = [];

export function load(size: number): void {
  table = Array.from({ length: size }, (_, i) => (i * i) % 251);
  console.log(`worker ${process.pid} loaded a table of ${size}`);
}

export function lookup(i: number): number {
  return table[i % table.length];
}

if (isMainModule(import.meta)) {
  const pool = new Pool({ processes: 2, initializer: load, initargs: [256] });
  const found = await pool.map(lookup, [1, 2, 3, 300, 1000]);
  // close() + join() rather than terminate(): the workers end normally, their output flushed.
  pool.close();
  await pool.join();
  console.log(`lookups: ${found.join(' ')}`);
}
