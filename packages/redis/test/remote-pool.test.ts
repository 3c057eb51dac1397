// What only a RemotePool has: signed messages, module hashes, worker commands that die, a server
// that restarts. Real worker commands, a real redis-server, handshakes through FIFOs and logs.
import { ProcessError, TimeoutError } from '@multiproc/errors';
import { appendFileSync, copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import Redis from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redis, RemotePool } from '../src';
import { redisAvailable, startRedis, type RedisServer } from './helpers/redis-server';
import { fifo, startWorker, TASKS } from './helpers/workers';

const t = (name: string) => ({ module: pathToFileURL(TASKS), export: name });

describe.runIf(redisAvailable())('RemotePool', () => {
  let server: RedisServer;
  let dir: string;
  const pool = (name: string, options: { retries?: number; authkey?: string } = {}) =>
    new RemotePool({ location: redis(server.url, { authkey: options.authkey ?? 'test-key' }), name, processes: 1, retries: options.retries });

  beforeAll(async () => {
    server = await startRedis();
    dir = mkdtempSync(join(tmpdir(), 'multiproc-remote-pool-'));
  });
  afterAll(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('is refused without an authkey, with how to set one; checks its options', () => {
    const saved = process.env.MULTIPROC_REDIS_AUTHKEY;
    delete process.env.MULTIPROC_REDIS_AUTHKEY;
    try {
      expect(() => new RemotePool({ location: redis(server.url) })).toThrow(/has no authkey.*MULTIPROC_REDIS_AUTHKEY.*redis\(url, \{ authkey \}\)/);
    } finally {
      if (saved !== undefined) process.env.MULTIPROC_REDIS_AUTHKEY = saved;
    }
    const location = redis(server.url, { authkey: 'k' });
    expect(() => new RemotePool({ location, retries: 11 })).toThrow(/retries must be an integer from 0 to 10/);
    expect(() => new RemotePool({ location, name: 'a b' })).toThrow(/name must be/);
    expect(() => new RemotePool({ location, nope: 1 } as any)).toThrow(/unknown option 'nope'/);
    expect(() => new RemotePool({ location, initializer: () => {} } as any)).toThrow(/initializer is an option of the local Pool only/);
    expect(() => new RemotePool({ location: 5 } as any)).toThrow(/location must be redis\(url\)/);
  });

  it('refuses a function that is not exported from a module, at the call', async () => {
    await using p = pool('unexported');
    expect(() => p.apply((x: number) => x * 2, [1])).toThrow(/runs tasks by module and export.*not exported from a module file/);
  });

  it('a worker with another authkey drops the tasks and says so once; the caller never gets a forged result', async () => {
    const w = await startWorker(server.url, { authkey: 'another-key', args: ['--pool', 'wrongkey'] });
    try {
      await using p = pool('wrongkey');
      const r = p.applyAsync(t('square'), [3]);
      expect(await w.logged(/dropped a task that failed HMAC verification/)).not.toMatch(/another-key|test-key/);
      await expect(r.get(0.2)).rejects.toBeInstanceOf(TimeoutError);
    } finally {
      await w.stop();
    }
  });

  it('a worker whose copy of the module differs refuses it, naming the module and both hashes', async () => {
    const copy = join(mkdtempSync(join(dir, 'stale-')), 'tasks.mjs');
    copyFileSync(TASKS, copy);
    appendFileSync(copy, '\n// an older build\n');
    const w = await startWorker(server.url, { modules: [copy], args: ['--pool', 'stale'] });
    try {
      await using p = pool('stale');
      const err: any = await p.apply(t('square'), [3]).catch((e) => e);
      expect(err).toBeInstanceOf(ProcessError);
      expect(err.message).toMatch(/refuses module tasks\.mjs: .*\(caller sha256:[0-9a-f]{12}, worker sha256:[0-9a-f]{12}\); deploy the same build/);
    } finally {
      await w.stop();
    }
  });

  it('a chunk whose process dies runs again when retries are asked for (capped), and fails as locally when not', async () => {
    const w = await startWorker(server.url, { args: ['--pool', 'retries'] });
    try {
      await using once = pool('retries');
      expect(await once.apply(t('killOnce'), [join(dir, 'a'), 7]).catch((e) => e)).toBeInstanceOf(ProcessError);
      await using retrying = pool('retries', { retries: 1 });
      expect(await retrying.apply(t('killOnce'), [join(dir, 'b'), 7])).toBe(7);
      // A task that always kills its process fails after its retries.
      await using twice = pool('retries', { retries: 2 });
      await expect(twice.apply(t('killSelf'), ['SIGKILL'])).rejects.toThrow(/ended with exit code -9/);
    } finally {
      await w.stop();
    }
  });

  it('a name whose key holds something else gives a clear error', async () => {
    const client = new Redis({ path: server.socket });
    await client.set('multiproc:pool:clash:tasks', 'a string');
    client.disconnect();
    await using p = pool('clash');
    await expect(p.apply(t('square'), [2])).rejects.toThrow(/multiproc:pool:clash:tasks .* holds something else than the task list of RemotePool 'clash'/);
  });

  it("a worker command killed with SIGKILL: after its heartbeat lapses, its chunk fails with ProcessError, or runs again elsewhere when retries are asked for", async () => {
    const lapse = ['--pool', 'deaths', '--heartbeat-interval', '0.1', '--heartbeat-lapse', '0.5'];
    const started = fifo();
    try {
      // Without retries: fails as a local worker's death does.
      const doomed = await startWorker(server.url, { args: lapse });
      await using p = pool('deaths');
      const r = p.apply(t('announceAndHang'), [started.path]).catch((e) => e);
      await started.read();
      doomed.run.child.kill('SIGKILL');
      const err: any = await r;
      expect(err).toBeInstanceOf(ProcessError);
      expect(err.message).toMatch(new RegExp(`the worker ${doomed.id.replace(/\./g, '\\.')} stopped \\(its heartbeat lapsed\\) while running this task`));
      await doomed.run.done;

      // With retries: the chunk goes to a worker that lives.
      const second = await startWorker(server.url, { args: lapse });
      await using retrying = pool('deaths', { retries: 1 });
      const result = retrying.apply(t('hangOnce'), [started.path, join(dir, 'hung-once'), 42]);
      await started.read();
      const survivor = await startWorker(server.url, { args: lapse });
      second.run.child.kill('SIGKILL');
      expect(await result).toBe(42);
      await second.run.done;
      expect((await survivor.stop()).code).toBe(0);
    } finally {
      started.remove();
    }
  });

  // Last: it empties the server.
  it('the server restarted mid-task: the caller fails it with a clear error; the worker reconnects and goes on', async () => {
    const started = fifo();
    const release = join(dir, 'release');
    const w = await startWorker(server.url, { processes: 2, args: ['--pool', 'restart'] });
    try {
      await using p = pool('restart');
      const r = p.apply(t('announceAndWaitForFile'), [started.path, release]).catch((e) => e);
      await started.read();
      await server.restart();
      const err: any = await r;
      expect(err).toBeInstanceOf(ProcessError);
      expect(err.message).toMatch(/the Redis server at unix:\/\/.* restarted or failed over .* this task did not finish/);
      // The task ends (its late result is ignored); the worker registered again on the new server.
      writeFileSync(release, '');
      expect(await p.map(t('square'), [1, 2, 3], 1)).toEqual([1, 4, 9]);
    } finally {
      writeFileSync(release, '');
      started.remove();
      expect((await w.stop()).code).toBe(0);
    }
  });

  // After the restart test: it stops the server for good.
  it('the server gone for good: a waiting call fails with a clear error after the retries, never hangs', async () => {
    const started = fifo();
    const release = join(dir, 'release-gone');
    const w = await startWorker(server.url, { args: ['--pool', 'gone'] });
    try {
      await using p = pool('gone');
      const r = p.apply(t('announceAndWaitForFile'), [started.path, release]).catch((e) => e);
      await started.read();
      await server.stop();
      const err: any = await r;
      expect(err).toBeInstanceOf(ProcessError);
      expect(err.message).toMatch(/lost the connection to Redis at unix:\/\/.*; this task may not have finished/);
    } finally {
      writeFileSync(release, '');
      started.remove();
      // A worker that retries for ever still leaves when told to, without the server.
      const { code, stderr } = await w.stop();
      expect({ code, stderr }).toMatchObject({ code: 0, stderr: expect.stringMatching(/left without unregistering: the server is not reachable/) });
    }
  }, 60_000);
});
