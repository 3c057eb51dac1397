// `multiproc-redis-worker` (and `npx multiproc worker`): serves a RemotePool from this machine.
import { cpuCount } from '@multiproc/core';
import { parseArgs } from 'node:util';
import { PoolWorker } from './pool-worker';

const USAGE = `usage: multiproc-redis-worker --redis URL --module FILE [--module FILE…] [--processes N]
                              [--pool NAME] [--prefix PREFIX] [--heartbeat-interval S] [--heartbeat-lapse S]

Runs a local Pool of N processes (default: the CPU count) serving the RemotePool named NAME
(default 'default') on the Redis server at URL (redis://, rediss:// or unix://; or env
MULTIPROC_REDIS_URL). Tasks must come from the given modules, with the same content as the
caller's. The authkey that signs tasks and results comes from env MULTIPROC_REDIS_AUTHKEY (never
the command line: other users can read it there). SIGINT/SIGTERM: finish the claimed tasks and
leave; a second one: stop now.`;

/** Runs the worker until SIGINT/SIGTERM; resolves with the exit code. */
export async function runWorkerCommand(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        redis: { type: 'string' },
        module: { type: 'string', multiple: true },
        processes: { type: 'string' },
        pool: { type: 'string' },
        prefix: { type: 'string' },
        'heartbeat-interval': { type: 'string' },
        'heartbeat-lapse': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (err) {
    console.error(`multiproc-redis-worker: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const url = values.redis ?? process.env.MULTIPROC_REDIS_URL;
  const refuse = (why: string) => {
    console.error(`multiproc-redis-worker: ${why}\n\n${USAGE}`);
    return 2;
  };
  if (!url) return refuse('--redis URL is required (or set MULTIPROC_REDIS_URL)');
  if (!values.module?.length) return refuse('--module FILE is required: the task module the callers use');
  const processes = values.processes === undefined ? cpuCount() : Number(values.processes);
  const seconds = (v: string | undefined) => (v === undefined ? undefined : Number(v));
  let worker: PoolWorker;
  try {
    worker = new PoolWorker({
      url,
      modules: values.module,
      processes,
      name: values.pool,
      prefix: values.prefix,
      heartbeat: { interval: seconds(values['heartbeat-interval']), lapse: seconds(values['heartbeat-lapse']) },
    });
  } catch (err) {
    return refuse((err as Error).message);
  }
  // A server runs until a signal ends it, whatever else holds the event loop meanwhile (while
  // it starts, nothing may: Node would end it with code 0 before it is ready).
  const alive = setInterval(() => {}, 2 ** 30);
  try {
    try {
      await worker.start();
    } catch (err) {
      console.error(`multiproc-redis-worker: cannot reach ${worker.location.display}: ${(err as Error).message}`);
      await worker.stop(false);
      return 1;
    }
    // One line on stdout once serving: the handshake for scripts (and tests) that start workers.
    console.log(`ready: ${worker.describe()}`);
    let signals = 0;
    await new Promise<void>((resolve) => {
      const onSignal = () => void worker.stop(++signals === 1).then(resolve);
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
    });
    return 0;
  } finally {
    clearInterval(alive);
  }
}
