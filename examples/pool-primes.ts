// A CPU-bound map: count the primes in eight ranges, one task per range, on every core.
// (Python: `with Pool() as p: counts = p.map(count_primes, ranges)`.)
import { Pool, cpuCount, isMainModule } from 'multiproc';

export function countPrimes([from, to]: [number, number]): number {
  let count = 0;
  for (let n = Math.max(2, from); n < to; n++) {
    let prime = true;
    for (let d = 2; d * d <= n; d++) {
      if (n % d === 0) {
        prime = false;
        break;
      }
    }
    if (prime) count++;
  }
  return count;
}

if (isMainModule(import.meta)) {
  const ranges = Array.from({ length: 8 }, (_, i): [number, number] => [i * 250_000, (i + 1) * 250_000]);
  await using pool = new Pool(cpuCount());
  const counts = await pool.map(countPrimes, ranges);
  console.log(`primes below 2,000,000: ${counts.reduce((a, b) => a + b, 0)}`);
  console.log(`per range: ${counts.join(' ')}`);
}
