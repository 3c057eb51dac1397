// Queue workloads: queue_1to1_items_per_s, queue_2to2_items_per_s, queue_1to2_items_per_s (from
// python/mp_bench_more.py), queue_large_MBps — ours and Python's. The bodies take the queues' context
// (`mp`, or @multiproc/redis's remoteContext) so workloads/redis-queue.mjs measures the same thing remotely.
import { startWithPipe } from '../lib/child.mjs';
import { reps } from '../lib/stats.mjs';
import { needs } from './pipe.mjs';

const targets = new URL('../children/queue-targets.mjs', import.meta.url);
export const ref = (name) => ({ module: targets, export: name });

/** After a run: a remote queue takes its keys off the server; a local one closes and flushes. */
export async function dispose(q) {
  if (q.destroy) return q.destroy();
  q.close();
  await q.joinThread();
}

/** A child puts `count` items on a queue from `ctx`; timed from 'go' until we got them all: items per second. */
export async function oneToOne(mp, ctx, count) {
  const q = new ctx.Queue();
  const { conn: a, done } = await startWithPipe(mp, ref('producer'), (end) => [q, end, count, 0]);
  const t0 = performance.now();
  await a.send('go');
  let x;
  for (let i = 0; i < count; i++) x = await q.get();
  const rate = count / ((performance.now() - t0) / 1000);
  if (x.i !== count - 1) throw new Error('items out of order');
  await done();
  await dispose(q);
  return rate;
}

/**
 * `producers` children each put `per` items on a queue from `ctx` and then one null per consumer
 * they are to stop; `consumers` children get until a null. Timed from 'go' (all have said 'ready')
 * until every consumer reported its count: items per second.
 */
export async function manyToMany(mp, ctx, producers, per, consumers) {
  const q = new ctx.Queue();
  // All start together, as in mp_bench.py, then each has said 'ready'.
  const start = (target, args) => startWithPipe(mp, ref(target), (end) => [q, end, ...args]);
  const [prods, cons] = await Promise.all([
    Promise.all(Array.from({ length: producers }, () => start('producer', [per, consumers / producers]))),
    Promise.all(Array.from({ length: consumers }, () => start('consumer', []))),
  ]);
  const t0 = performance.now();
  for (const { conn } of prods) await conn.send('go');
  let total = 0;
  for (const { conn } of cons) total += await conn.recv();
  const rate = total / ((performance.now() - t0) / 1000);
  if (total !== producers * per) throw new Error(`consumers got ${total} items`);
  for (const child of [...prods, ...cons]) await child.done();
  await dispose(q);
  return rate;
}

export default (size) => [
  {
    metric: 'queue_1to1_items_per_s',
    python: 'queue_1to1_items_per_s',
    unit: 'items/s',
    better: 'higher',
    target: { against: 'python', factor: 2 },
    ours: (mp) => needs(mp, 'Queue') ?? reps(size.QUEUE_1TO1_REPS, () => oneToOne(mp, mp, size.QUEUE_1TO1_COUNT)),
  },
  {
    metric: 'queue_2to2_items_per_s',
    python: 'queue_2to2_items_per_s',
    unit: 'items/s',
    better: 'higher',
    target: { against: 'python', factor: 2 },
    ours: (mp) =>
      needs(mp, 'Queue') ??
      reps(size.QUEUE_2TO2_REPS, () => manyToMany(mp, mp, size.QUEUE_2TO2_PRODUCERS, size.QUEUE_2TO2_PER_PRODUCER, size.QUEUE_2TO2_CONSUMERS)),
  },
  {
    metric: 'queue_1to2_items_per_s',
    python: 'queue_1to2_items_per_s',
    unit: 'items/s',
    better: 'higher',
    target: { against: 'python', factor: 1 },
    ours: (mp) => needs(mp, 'Queue') ?? reps(size.QUEUE_1TO2_REPS, () => manyToMany(mp, mp, 1, size.QUEUE_1TO2_COUNT, size.QUEUE_1TO2_CONSUMERS)),
  },
  {
    metric: 'queue_large_MBps',
    python: 'queue_large_MBps',
    unit: 'MB/s',
    better: 'higher',
    target: { against: 'python', factor: 1 },
    ours: (mp) =>
      needs(mp, 'Queue') ??
      reps(size.QUEUE_LARGE_REPS, async () => {
        const q = new mp.Queue();
        const { conn: a, done } = await startWithPipe(mp, ref('largeProducer'), (end) => [q, end, size.QUEUE_LARGE_COUNT, size.QUEUE_LARGE_SIZE]);
        const t0 = performance.now();
        await a.send('go');
        let total = 0;
        for (let i = 0; i < size.QUEUE_LARGE_COUNT; i++) total += (await q.get()).length;
        const mbps = total / ((performance.now() - t0) / 1000) / 1e6;
        await done();
        q.close();
        return mbps;
      }),
  },
];
