// A redis-server for one workload: on a Unix socket in a fresh directory, no persistence, stopped
// and removed afterwards (the tests' helper, packages/redis/test/helpers/redis-server.ts, in short).
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const BINARY = process.env.REDIS_SERVER ?? 'redis-server';

/** Why the Redis rows cannot run here, or null. */
export function redisUnavailable() {
  return spawnSync(BINARY, ['--version'], { stdio: 'ignore' }).status === 0 ? null : 'redis-server not found (apt-get install redis-server)';
}

/** Resolves with { url, stop() } once the server accepts connections. */
export async function startRedis() {
  const dir = mkdtempSync(join(tmpdir(), 'multiproc-bench-redis-'));
  const socket = join(dir, 'redis.sock');
  const child = spawn(BINARY, ['--port', '0', '--unixsocket', socket, '--unixsocketperm', '700', '--save', '', '--appendonly', 'no', '--dir', dir], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
      if (/ready to accept connections/i.test(out)) {
        child.stdout.removeAllListeners('data');
        child.stdout.resume();
        resolve();
      }
    });
    child.on('error', reject);
    child.on('exit', (code) => reject(new Error(`redis-server exited with ${code}: ${out.slice(-500)}`)));
  });
  // A workload that gives up (run.mjs's time limit) exits at once: the server goes with it.
  const atExit = () => {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', atExit);
  return {
    url: `unix://${socket}`,
    async stop() {
      process.removeListener('exit', atExit);
      child.kill('SIGKILL');
      if (child.exitCode === null && child.signalCode === null) await new Promise((resolve) => child.once('exit', resolve));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
