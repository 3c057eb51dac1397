// A worker's heartbeat comes from a thread of its own, with its own connection: a main thread
// busy for seconds (CPU-bound work, a long synchronous load) is not taken for a dead one.
import { once } from 'node:events';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';

export interface HeartbeatData {
  url: string;
  /** The key set with a TTL of `lapseMs` every `intervalMs`. */
  key: string;
  intervalMs: number;
  lapseMs: number;
  /** Registration written with each beat (a reaper that took this worker off puts it back). */
  hash: { key: string; field: string; value: string };
}

export interface Heartbeat {
  stop(): Promise<void>;
}

export function startHeartbeat(data: HeartbeatData): Heartbeat {
  const thread = new Worker(join(__dirname, 'heartbeat-thread.js'), { workerData: data });
  thread.on('error', (err) => console.error(`multiproc: the heartbeat thread failed: ${err.message}`));
  return {
    async stop() {
      if (thread.threadId === -1) return;
      const ended = once(thread, 'exit');
      thread.postMessage('stop');
      await ended;
    },
  };
}
