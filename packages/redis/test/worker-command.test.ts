// The worker command's refusals: each says what was wrong and what to do, and exits 2 at once.
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runNode } from '../../core/test/helpers/procs';
import { TASKS } from './helpers/workers';

const BIN = fileURLToPath(new URL('../bin/multiproc-redis-worker.cjs', import.meta.url));
const run = (args: string[], env: NodeJS.ProcessEnv = {}) => runNode(BIN, args, { env: { MULTIPROC_REDIS_AUTHKEY: 'k', MULTIPROC_REDIS_URL: '', ...env } }).done;

describe('multiproc-redis-worker', () => {
  it('--help prints the usage', async () => {
    const { code, stdout } = await run(['--help']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/usage: multiproc-redis-worker --redis URL --module FILE/);
  });

  it('refuses what it cannot run, saying why', async () => {
    const cases: [string[], NodeJS.ProcessEnv, RegExp][] = [
      [['--module', TASKS], {}, /--redis URL is required \(or set MULTIPROC_REDIS_URL\)/],
      [['--redis', 'unix:///nowhere.sock'], {}, /--module FILE is required/],
      [['--redis', 'unix:///nowhere.sock', '--module', TASKS, '--nope'], {}, /Unknown option '--nope'/],
      [['--redis', 'unix:///nowhere.sock', '--module', TASKS], { MULTIPROC_REDIS_AUTHKEY: undefined }, /needs the authkey .* MULTIPROC_REDIS_AUTHKEY/],
      [['--redis', 'unix:///nowhere.sock', '--module', '/no/such/tasks.js'], {}, /cannot read the task module \/no\/such\/tasks\.js/],
      [['--redis', 'unix:///nowhere.sock', '--module', TASKS, '--processes', '0'], {}, /processes must be a positive integer/],
      [['--redis', 'redis://:hunter2@127.0.0.1:1/x', '--module', TASKS], {}, /database must be a number/],
    ];
    for (const [args, env, message] of cases) {
      const { code, stderr } = await run(args, env);
      expect({ args, code, stderr }).toMatchObject({ code: 2, stderr: expect.stringMatching(message) });
      expect(stderr).not.toMatch(/hunter2/);
    }
  });
});
