// Remote queue workloads (@multiproc/redis on a redis-server started here, over a Unix socket):
// redis_queue_1to1_items_per_s and redis_queue_2to2_items_per_s, the local rows' own bodies
// (workloads/queue.mjs) on remoteContext's queues, compared with Python's local mp.Queue (the
// issue's target: at least as fast), and redis_queue_roundtrip_us (one item there and back
// through two queues) beside the local Queue's.
import { startWithPipe } from '../lib/child.mjs';
import { redisUnavailable, startRedis } from '../lib/redis-server.mjs';
import { reps } from '../lib/stats.mjs';
import { dispose, manyToMany, oneToOne, ref } from './queue.mjs';

const RT_COUNT = 5_000;

/** Runs `fn(ctx)` on a fresh server, where ctx is remoteContext(redis(url)); n/a with the reason when it cannot. */
async function onRedis(fn) {
  const why = redisUnavailable();
  if (why) throw new Error(why);
  let lib;
  try {
    lib = await import('@multiproc/redis');
  } catch (err) {
    throw new Error(`@multiproc/redis not built: ${err.message.split('\n')[0]}`);
  }
  const server = await startRedis();
  try {
    return await fn(lib.remoteContext(lib.redis(server.url)));
  } finally {
    await server.stop();
  }
}

/** Microseconds per item there and back: put on `a`, the child puts it on `b`, we get it. */
async function roundTrip(mp, ctx) {
  const a = new ctx.Queue();
  const b = new ctx.Queue();
  const { done } = await startWithPipe(mp, ref('ponger'), (end) => [a, b, end]);
  for (let i = 0; i < 100; i++) {
    await a.put(i);
    await b.get();
  }
  const t0 = performance.now();
  for (let i = 0; i < RT_COUNT; i++) {
    await a.put(i);
    await b.get();
  }
  const us = ((performance.now() - t0) * 1000) / RT_COUNT;
  await a.put(null);
  await done();
  for (const q of [a, b]) await dispose(q);
  return us;
}

export default (size) => [
  {
    metric: 'redis_queue_1to1_items_per_s',
    python: 'queue_1to1_items_per_s',
    pythonMetric: 'queue_1to1_items_per_s',
    unit: 'items/s',
    better: 'higher',
    target: { against: 'python', factor: 1 },
    note: "remote: through a local redis-server (Unix socket); Python's column is its local mp.Queue",
    ours: (mp) => onRedis((ctx) => reps(size.QUEUE_1TO1_REPS, () => oneToOne(mp, ctx, size.QUEUE_1TO1_COUNT))),
  },
  {
    metric: 'redis_queue_2to2_items_per_s',
    python: 'queue_2to2_items_per_s',
    pythonMetric: 'queue_2to2_items_per_s',
    unit: 'items/s',
    better: 'higher',
    target: { against: 'python', factor: 1 },
    note: "remote: through a local redis-server (Unix socket); Python's column is its local mp.Queue",
    ours: (mp) =>
      onRedis((ctx) => reps(size.QUEUE_2TO2_REPS, () => manyToMany(mp, ctx, size.QUEUE_2TO2_PRODUCERS, size.QUEUE_2TO2_PER_PRODUCER, size.QUEUE_2TO2_CONSUMERS))),
  },
  {
    metric: 'redis_queue_roundtrip_us',
    python: null,
    unit: 'µs',
    better: 'lower',
    note: 'one item to a child and back through two queues; the peer is the same on the local Queue',
    ours: (mp) => onRedis((ctx) => reps(size.QUEUE_1TO1_REPS, () => roundTrip(mp, ctx))),
    peers: {
      'local Queue': (mp) => reps(size.QUEUE_1TO1_REPS, () => roundTrip(mp, mp)),
    },
  },
];
