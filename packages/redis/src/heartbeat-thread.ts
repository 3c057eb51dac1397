// The heartbeat thread (see heartbeat.ts): refreshes the worker's key until told to stop.
import { parentPort, workerData } from 'node:worker_threads';
import { redis } from './location';
import type { HeartbeatData } from './heartbeat';

const { url, key, intervalMs, lapseMs, hash } = workerData as HeartbeatData;
const client = redis(url).connect('heartbeat');
// A lost connection is retried by ioredis; meanwhile the key lapses, which is the point.
client.on('error', () => {});
const beat = () => void client.multi().set(key, '1', 'PX', lapseMs).hset(hash.key, hash.field, hash.value).exec().catch(() => {});
beat();
const timer = setInterval(beat, intervalMs);
parentPort!.once('message', () => {
  clearInterval(timer);
  client.disconnect();
  parentPort!.close();
});
