import type * as Crypto from 'node:crypto';
import { accessSync, constants, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type * as WorkerThreads from 'node:worker_threads';
import { ProcessError } from '@multiproc/errors';
import { signedFields, type QueueDescriptor } from './wire';

interface Broker {
  dir: string;
  secret: Buffer;
  next: number;
}

let broker: Broker | null = null;
// node:crypto and node:worker_threads cost ~5 ms to load: loaded by the first Queue, not with the package.
let cryptoModule: typeof Crypto | undefined;
const crypto = (): typeof Crypto => (cryptoModule ??= require('node:crypto') as typeof Crypto);
/** How long the first Queue of a process waits for its broker thread to listen. */
const START_LIMIT_MS = 30_000;

/**
 * Starts this process's broker thread the first time a Queue is made here. The constructor waits
 * (a few ms, once) until it listens, so the queue can be passed to a child the moment it exists.
 * The thread is unref'd: it never keeps the process alive, and it ends with it.
 */
function start(): Broker {
  const parent = memoryDir();
  sweep(parent);
  const dir = mkdtempSync(join(parent, `${PREFIX}${process.pid}-`));
  const secret = crypto().randomBytes(32);
  const ready = new SharedArrayBuffer(4);
  const flag = new Int32Array(ready);
  const { Worker } = require('node:worker_threads') as typeof WorkerThreads;
  const worker = new Worker(join(__dirname, 'broker.js'), {
    workerData: { dir, secret, ready },
    // The broker is plain CommonJS: no loaders (tsx, …) of the program are needed there.
    execArgv: [],
    stdout: false,
    stderr: false,
  });
  worker.on('error', (err) => {
    // Participants see their connections end with a clear error; this keeps the process up.
    process.emitWarning(`multiproc: the queue broker thread failed: ${err.stack ?? err}`);
  });
  worker.unref();
  const waited = Atomics.wait(flag, 0, 0, START_LIMIT_MS);
  if (waited === 'timed-out' || Atomics.load(flag, 0) !== 1) {
    void worker.terminate();
    throw new ProcessError(`Queue(): the queue broker thread did not start (${waited === 'timed-out' ? 'timed out' : 'failed to listen'} in ${dir})`);
  }
  process.once('exit', () => {
    // The broker thread still runs here and may be adding a participant's file as we remove the
    // directory (a child connecting as this process exits): try again, and never fail the exit.
    try {
      rmSync(dir, { recursive: true, force: true, maxRetries: 3, retryDelay: 1 });
    } catch {
      // Left to the next broker's sweep.
    }
  });
  return { dir, secret, next: 0 };
}

const PREFIX = 'multiproc-queue-';

/**
 * A process killed by a signal never runs its exit hook, so its broker directory stays behind;
 * the next broker to start removes those whose process is gone.
 */
function sweep(parent: string): void {
  for (const name of readdirSync(parent)) {
    const pid = name.startsWith(PREFIX) ? Number(name.slice(PREFIX.length).split('-')[0]) : NaN;
    if (!Number.isInteger(pid) || pid <= 0 || isAlive(pid)) continue;
    rmSync(join(parent, name), { recursive: true, force: true });
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: alive, someone else's.
    return (err as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/** The small files every get writes are cheapest in memory: /dev/shm where there is one. */
function memoryDir(): string {
  try {
    accessSync('/dev/shm', constants.W_OK);
    return '/dev/shm';
  } catch {
    return (require('node:os') as typeof import('node:os')).tmpdir();
  }
}

/** Whether the queue's items live in this very process (then they end with it, whatever happens). */
export function isOwnBroker(dir: string): boolean {
  return broker !== null && broker.dir === dir;
}

/** A new queue at this process's broker. */
export function newQueue(maxsize: number, joinable: boolean): QueueDescriptor {
  const b = (broker ??= start());
  const fields = { n: b.next++, maxsize, joinable };
  const token = crypto().createHmac('sha256', b.secret).update(signedFields(fields)).digest('hex');
  return { dir: b.dir, ...fields, token, owner: process.pid };
}
