// Heartbeats from a worker thread, so a consumer whose event loop is busy (a CPU-bound task
// between two gets) is not taken for dead: the thread has its own connection and, every
// `interval`, pushes back the expiry of each alive:<id> key of this process by `lapse`. A key is
// only refreshed while it exists (PEXPIRE): a consumer a reaper has written off stays so, and
// learns it on its next take.
import type { RedisLocation } from './location';
import { Worker } from 'node:worker_threads';

export interface HeartbeatOptions {
  /** Seconds between two heartbeats (default 1). */
  interval?: number;
  /** Seconds without a heartbeat after which a consumer counts as dead and what it held goes back (default 10). */
  lapse?: number;
}

// The thread's whole program: one client per server, one timer per key.
const THREAD = `
const { parentPort, workerData } = require('node:worker_threads');
const Redis = require(workerData.ioredis);
const clients = new Map();
const beats = new Map();
parentPort.on('message', (m) => {
  if (m.op === 'add') {
    let c = clients.get(m.server);
    if (!c) {
      c = { client: new Redis({ ...m.options, retryStrategy: (n) => Math.min(50 * n, 500), maxRetriesPerRequest: null }), keys: 0 };
      c.client.on('error', () => {});
      clients.set(m.server, c);
    }
    c.keys++;
    const beat = () => c.client.pexpire(m.key, m.lapseMs).catch(() => {});
    beats.set(m.key, { server: m.server, timer: setInterval(beat, m.intervalMs) });
  } else if (m.op === 'remove') {
    const b = beats.get(m.key);
    if (!b) return;
    beats.delete(m.key);
    clearInterval(b.timer);
    const c = clients.get(b.server);
    if (--c.keys === 0) {
      clients.delete(b.server);
      c.client.quit().catch(() => c.client.disconnect());
    }
    if (beats.size === 0) parentPort.postMessage('idle');
  }
});
`;

let worker: Worker | null = null;
let beating = 0;
const servers = new WeakMap<RedisLocation, { id: string; options: object }>();
let serverIds = 0;

/** What the thread needs to connect (a plain copy: the thread is in this process, nothing is printed). */
function serverOf(location: RedisLocation): { id: string; options: object } {
  let s = servers.get(location);
  if (!s) {
    const probe = location.connect('heartbeat', { lazyConnect: true });
    const { host, port, path, username, password, db, tls, connectionName } = probe.options;
    probe.disconnect();
    servers.set(location, (s = { id: String(serverIds++), options: { host, port, path, username, password, db, tls, connectionName } }));
  }
  return s;
}

/** Starts refreshing `key` (which the consumer's first take made); returns how to stop. */
export function startHeartbeat(location: RedisLocation, key: string, o: Required<HeartbeatOptions>): () => void {
  if (!worker) {
    worker = new Worker(THREAD, { eval: true, workerData: { ioredis: require.resolve('ioredis') } });
    worker.unref();
    worker.on('error', () => {});
    const w = worker;
    // Idle: the thread ends, so nothing is left running once every consumer left.
    w.on('message', () => {
      if (beating === 0 && worker === w) {
        worker = null;
        void w.terminate();
      }
    });
  }
  const s = serverOf(location);
  beating++;
  worker.postMessage({ op: 'add', server: s.id, options: s.options, key, lapseMs: Math.round(o.lapse * 1000), intervalMs: Math.round(o.interval * 1000) });
  const w = worker;
  let stopped = false;
  return () => {
    if (stopped) return;
    stopped = true;
    beating--;
    w.postMessage({ op: 'remove', key });
  };
}
