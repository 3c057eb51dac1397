// Sync workloads (python/mp_bench_more.py has Python's side): a lock's uncontended cost (sync and
// awaited), two processes contending for one lock, Value('i') += 1 under its lock, and the
// hand-off to a sleeping waiter in another process (Event set → wait returns).
import { startWithPipe } from '../lib/child.mjs';
import { reps } from '../lib/stats.mjs';

const targets = new URL('../children/sync-targets.mjs', import.meta.url);
const ref = (name) => ({ module: targets, export: name });

/** Imported from their own packages, as a user who installs only them would. */
async function load() {
  const [sync, shared] = await Promise.all([import('@multiproc/sync'), import('@multiproc/shared')]);
  return { ...sync, ...shared };
}

const ns = (t0, n) => ((performance.now() - t0) * 1e6) / n;

export default (size) => [
  {
    metric: 'sync_lock_uncontended_ns',
    python: 'sync_lock_uncontended_ns',
    unit: 'ns',
    better: 'lower',
    target: { against: 'python', factor: 0.5 },
    note: 'acquireSync() + release(), one process',
    ours: async () => {
      const { Lock } = await load();
      const lock = new Lock();
      return reps(size.SYNC_REPS, () => {
        const t0 = performance.now();
        for (let i = 0; i < size.SYNC_LOCK_COUNT; i++) {
          lock.acquireSync();
          lock.release();
        }
        return ns(t0, size.SYNC_LOCK_COUNT);
      });
    },
  },
  {
    metric: 'sync_lock_awaited_ns',
    python: 'sync_lock_uncontended_ns',
    pythonMetric: 'sync_lock_uncontended_ns',
    unit: 'ns',
    better: 'lower',
    target: { against: 'python', factor: 1 },
    note: 'await acquire() + release(), against Python\'s acquire()',
    ours: async () => {
      const { Lock } = await load();
      const lock = new Lock();
      return reps(size.SYNC_REPS, async () => {
        const t0 = performance.now();
        for (let i = 0; i < size.SYNC_LOCK_COUNT; i++) {
          await lock.acquire();
          lock.release();
        }
        return ns(t0, size.SYNC_LOCK_COUNT);
      });
    },
  },
  {
    metric: 'sync_lock_contended_ns',
    python: 'sync_lock_contended_ns',
    unit: 'ns',
    better: 'lower',
    target: { against: 'python', factor: 0.5 },
    note: '2 processes contend, per acquire + release',
    ours: async (mp) => {
      const { Lock } = await load();
      return reps(size.SYNC_REPS, async () => {
        const lock = new Lock();
        const kids = await Promise.all([0, 1].map(() => startWithPipe(mp, ref('contender'), (end) => [lock, end, size.SYNC_CONTENDED_COUNT])));
        const t0 = performance.now();
        for (const k of kids) await k.conn.send('go');
        for (const k of kids) await k.conn.recv();
        const r = ns(t0, 2 * size.SYNC_CONTENDED_COUNT);
        for (const k of kids) await k.done();
        return r;
      });
    },
  },
  {
    metric: 'sync_value_incr_ns',
    python: 'sync_value_incr_ns',
    unit: 'ns',
    better: 'lower',
    target: { against: 'python', factor: 0.2 },
    note: "Value('i') += 1 under its lock (acquireSync/release)",
    ours: async () => {
      const { Value } = await load();
      const v = new Value('i', 0);
      const lock = v.getLock();
      return reps(size.SYNC_REPS, () => {
        const t0 = performance.now();
        for (let i = 0; i < size.SYNC_LOCK_COUNT; i++) {
          lock.acquireSync();
          v.value += 1;
          lock.release();
        }
        return ns(t0, size.SYNC_LOCK_COUNT);
      });
    },
  },
  {
    metric: 'sync_event_handoff_us',
    python: 'sync_event_handoff_us',
    unit: 'µs',
    better: 'lower',
    target: { against: 'python', factor: 1.5 },
    note: 'Event set() → a sleeping waitSync() in another process returns, one way',
    ours: async (mp) => {
      const { Event } = await load();
      return reps(size.SYNC_REPS, async () => {
        const ping = new Event();
        const pong = new Event();
        const n = size.SYNC_HANDOFF_COUNT;
        const k = await startWithPipe(mp, ref('ponger'), (end) => [ping, pong, end, n]);
        const t0 = performance.now();
        for (let i = 0; i < n; i++) {
          ping.set();
          pong.waitSync();
          pong.clear();
        }
        const r = ((performance.now() - t0) * 1000) / (2 * n);
        await k.done();
        return r;
      });
    },
  },
];
