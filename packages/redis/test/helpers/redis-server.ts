// A real redis-server for one test file: on a Unix socket in a fresh directory (and, when asked,
// on a free 127.0.0.1 port), with no persistence, stopped and removed afterwards. Where the
// binary is missing the Redis tests skip with one line saying how to install it, except in CI,
// where a skip would hide that nothing was tested.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const BINARY = process.env.REDIS_SERVER ?? 'redis-server';
const INSTALL = 'install it with `apt-get install redis-server` (or `brew install redis`), or set REDIS_SERVER to its path';

/** Whether redis-server can run here; in CI its absence is an error, not a skip. */
export function redisAvailable(): boolean {
  const found = spawnSync(BINARY, ['--version'], { stdio: 'ignore' }).status === 0;
  if (!found && process.env.CI) throw new Error(`CI needs redis-server for the Redis tests: ${INSTALL}`);
  if (!found) console.warn(`skipping the Redis tests: redis-server not found; ${INSTALL}`);
  return found;
}

export interface RedisServer {
  /** unix:///…/redis.sock (with the password, if any, as ?password=). */
  readonly url: string;
  /** redis://127.0.0.1:<port> when started with `tcp`, else null. */
  readonly tcpUrl: string | null;
  readonly socket: string;
  readonly pid: number;
  /** Ends the server at once (SIGKILL) and starts it again on the same socket and port, empty. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export interface RedisServerOptions {
  tcp?: boolean;
  password?: string;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function launch(args: string[]): Promise<ChildProcess> {
  const child = spawn(BINARY, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk;
      // The server's own handshake, once it accepts connections: "Ready to accept connections tcp",
      // or with no port "The server is now ready to accept connections at <socket>".
      if (/ready to accept connections/i.test(out)) {
        child.stdout!.removeAllListeners('data');
        child.stdout!.resume();
        resolve(child);
      }
    });
    child.on('error', reject);
    child.on('exit', (code) => reject(new Error(`redis-server exited with ${code} before it was ready:\n${out}`)));
  });
}

function ended(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

export async function startRedis(options: RedisServerOptions = {}): Promise<RedisServer> {
  const dir = mkdtempSync(join(tmpdir(), 'multiproc-redis-'));
  const socket = join(dir, 'redis.sock');
  const port = options.tcp ? await freePort() : 0;
  const args = [
    '--port', String(port), '--bind', '127.0.0.1', '--unixsocket', socket, '--unixsocketperm', '700',
    '--save', '', '--appendonly', 'no', '--dir', dir, '--loglevel', 'notice', '--daemonize', 'no',
    ...(options.password ? ['--requirepass', options.password] : []),
  ];
  let child = await launch(args);
  const query = options.password ? `?password=${encodeURIComponent(options.password)}` : '';
  const auth = options.password ? `:${encodeURIComponent(options.password)}@` : '';
  return {
    url: `unix://${socket}${query}`,
    tcpUrl: options.tcp ? `redis://${auth}127.0.0.1:${port}` : null,
    socket,
    get pid() {
      return child.pid!;
    },
    async restart() {
      child.kill('SIGKILL');
      await ended(child);
      child = await launch(args);
    },
    async stop() {
      child.kill('SIGKILL');
      await ended(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
