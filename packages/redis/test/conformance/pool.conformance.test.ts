// One suite, two engines: the local Pool's cases (packages/pool/test/pool-cases.ts), run through
// a context — `new ctx.Pool(processes)` — on the local Pool and on a RemotePool served by two real
// worker commands: one API, the same results and errors.
import type { ContextLike, PoolLike } from '@multiproc/core';
import '@multiproc/pool';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { poolCases } from '../../../pool/test/pool-cases';
import type { RemoteContext } from '../../src';
import { startWorker, TASKS, type WorkerRun } from '../helpers/workers';
import { conformanceContexts } from './contexts';

const t = (name: string) => ({ module: pathToFileURL(TASKS), export: name });

// The key RemotePools sign with (redis(url) reads it); the workers get the same.
process.env.MULTIPROC_REDIS_AUTHKEY = 'test-key';

const kinds = conformanceContexts().map((c) => {
  let workers: WorkerRun[] = [];
  return {
    name: c.name,
    make: (processes: number): PoolLike => new (c.ctx as unknown as ContextLike).Pool(processes),
    async setup() {
      await c.setup();
      if (c.name !== 'redis') return;
      // Two worker commands of two processes each: chunks spread over "machines".
      const url = (c.ctx as unknown as RemoteContext).location.display;
      workers = await Promise.all([startWorker(url, { processes: 2 }), startWorker(url, { processes: 2 })]);
    },
    async teardown() {
      for (const w of workers) expect((await w.stop()).code).toBe(0);
      await c.teardown();
    },
  };
});

describe.each(kinds)('Pool conformance: $name', (kind) => {
  beforeAll(() => kind.setup());
  afterAll(() => kind.teardown());

  poolCases({ make: kind.make, task: t, imapReadAhead: 2 * 256 + 2 * 40 });

  it('a result or an argument that cannot be sent fails its task only', async () => {
    await using pool = kind.make(1);
    await expect(pool.apply(t('returnsFunction'))).rejects.toThrow(/cannot be sent/);
    await expect(pool.map(t('square'), [1, () => 2] as any)).rejects.toThrow(/cannot be sent/);
    expect(await pool.apply(t('square'), [5])).toBe(25);
  });
});
