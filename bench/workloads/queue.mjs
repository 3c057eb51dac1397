// Queue workloads: queue_1to1_items_per_s, queue_2to2_items_per_s, queue_large_MBps — ours and Python's.
import { reps } from '../lib/stats.mjs';
import { needs } from './pipe.mjs';

const targets = new URL('../children/queue-targets.mjs', import.meta.url);
const ref = (name) => ({ module: targets, export: name });

export default (size) => [
  {
    metric: 'queue_1to1_items_per_s',
    python: 'queue_1to1_items_per_s',
    unit: 'items/s',
    better: 'higher',
    target: { against: 'python', factor: 2 },
    ours: (mp) =>
      needs(mp, 'Queue') ??
      reps(size.QUEUE_1TO1_REPS, async () => {
        const q = new mp.Queue();
        const [a, b] = mp.Pipe();
        const p = new mp.Process({ target: ref('producer'), args: [q, b, size.QUEUE_1TO1_COUNT, false] });
        p.start();
        await a.recv();
        const t0 = performance.now();
        await a.send('go');
        let x;
        for (let i = 0; i < size.QUEUE_1TO1_COUNT; i++) x = await q.get();
        const rate = size.QUEUE_1TO1_COUNT / ((performance.now() - t0) / 1000);
        if (x.i !== size.QUEUE_1TO1_COUNT - 1) throw new Error('items out of order');
        await p.join();
        a.close();
        b.close();
        q.close();
        await q.joinThread();
        return rate;
      }),
  },
  {
    metric: 'queue_2to2_items_per_s',
    python: 'queue_2to2_items_per_s',
    unit: 'items/s',
    better: 'higher',
    target: { against: 'python', factor: 2 },
    ours: (mp) =>
      needs(mp, 'Queue') ??
      reps(size.QUEUE_2TO2_REPS, async () => {
        const q = new mp.Queue();
        const make = (target, args) => {
          const [a, b] = mp.Pipe();
          return { p: new mp.Process({ target: ref(target), args: [q, b, ...args] }), a, b };
        };
        const prods = Array.from({ length: size.QUEUE_2TO2_PRODUCERS }, () => make('producer', [size.QUEUE_2TO2_PER_PRODUCER, true]));
        const cons = Array.from({ length: size.QUEUE_2TO2_CONSUMERS }, () => make('consumer', []));
        for (const { p } of [...prods, ...cons]) p.start();
        for (const { a } of [...prods, ...cons]) await a.recv();
        const t0 = performance.now();
        for (const { a } of prods) await a.send('go');
        let total = 0;
        for (const { a } of cons) total += await a.recv();
        const rate = total / ((performance.now() - t0) / 1000);
        if (total !== size.QUEUE_2TO2_PRODUCERS * size.QUEUE_2TO2_PER_PRODUCER) throw new Error(`consumers got ${total} items`);
        for (const { p, a, b } of [...prods, ...cons]) {
          await p.join();
          a.close();
          b.close();
        }
        q.close();
        return rate;
      }),
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
        const [a, b] = mp.Pipe();
        const p = new mp.Process({ target: ref('largeProducer'), args: [q, b, size.QUEUE_LARGE_COUNT, size.QUEUE_LARGE_SIZE] });
        p.start();
        await a.recv();
        const t0 = performance.now();
        await a.send('go');
        let total = 0;
        for (let i = 0; i < size.QUEUE_LARGE_COUNT; i++) total += (await q.get()).length;
        const mbps = total / ((performance.now() - t0) / 1000) / 1e6;
        await p.join();
        a.close();
        b.close();
        q.close();
        return mbps;
      }),
  },
];
