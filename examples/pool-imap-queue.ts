// A pipeline: a Pool hashes files' worth of data with imapUnordered, the parent feeds each
// result into a Queue as it comes, and a writer process takes them from the Queue.
import { createHash } from 'node:crypto';
import { Pool, Process, Queue, isMainModule } from 'multiproc';

export function digest(n: number): [number, string] {
  let data = `block ${n}`;
  for (let i = 0; i < 2_000; i++) data = createHash('sha256').update(data).digest('hex');
  return [n, data.slice(0, 16)];
}

export async function writer(q: Queue<[number, string] | null>): Promise<void> {
  let count = 0;
  for (;;) {
    const item = await q.get();
    if (item === null) break;
    count++;
  }
  console.log(`writer stored ${count} digests`);
}

function* blocks(n: number) {
  for (let i = 0; i < n; i++) yield i;
}

if (isMainModule(import.meta)) {
  const q = new Queue<[number, string] | null>(16);
  const w = new Process({ target: writer, args: [q] });
  w.start();
  await using pool = new Pool(2);
  let first = '';
  for await (const [n, hex] of pool.imapUnordered<[number, string]>(digest, blocks(100), 4)) {
    if (n === 0) first = hex;
    await q.put([n, hex]);
  }
  await q.put(null);
  await w.join();
  console.log(`block 0 -> ${first}, writer exit ${w.exitCode}`);
}
