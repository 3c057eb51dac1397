// Worker commands (multiproc-redis-worker) as real child processes, and FIFOs for handshakes
// with tasks running inside them.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runNode, type Run } from '../../../core/test/helpers/procs';

const BIN = fileURLToPath(new URL('../../bin/multiproc-redis-worker.cjs', import.meta.url));
export const TASKS = fileURLToPath(new URL('../fixtures/tasks.mjs', import.meta.url));

export interface WorkerRun {
  id: string;
  run: Run;
  /** Resolves once the worker wrote a line matching `match` on stderr (a handshake on what it logs). */
  logged(match: RegExp): Promise<string>;
  /** SIGTERM (finish the claimed tasks, leave), twice with `hard` (fail them now); then the exit. */
  stop(hard?: boolean): Promise<{ code: number | null; stderr: string }>;
}

export async function startWorker(url: string, options: { args?: string[]; authkey?: string; modules?: string[]; processes?: number } = {}): Promise<WorkerRun> {
  const modules = (options.modules ?? [TASKS]).flatMap((m) => ['--module', m]);
  const run = runNode(BIN, ['--redis', url, ...modules, '--processes', String(options.processes ?? 1), ...(options.args ?? [])], {
    env: { MULTIPROC_REDIS_AUTHKEY: options.authkey ?? 'test-key' },
  });
  let stderr = '';
  const waiters: { match: RegExp; resolve: (line: string) => void }[] = [];
  run.child.stderr!.on('data', (d) => {
    stderr += d;
    for (const w of [...waiters]) {
      const line = stderr.split('\n').find((l) => w.match.test(l));
      if (line !== undefined) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(line);
      }
    }
  });
  const [, id] = await run.line(/^ready: worker (\S+)/);
  return {
    id,
    run,
    logged: (match) =>
      new Promise((resolve, reject) => {
        const line = stderr.split('\n').find((l) => match.test(l));
        if (line !== undefined) return resolve(line);
        waiters.push({ match, resolve });
        run.done.then(() => reject(new Error(`the worker ended before logging ${match}:\n${stderr}`)));
      }),
    async stop(hard = false) {
      run.child.kill('SIGTERM');
      if (hard) run.child.kill('SIGTERM');
      // A safety net, not a handshake: a worker stuck in a task must not outlive the test file.
      const stuck = setTimeout(() => run.child.kill('SIGKILL'), 10_000);
      void run.done.then(() => clearTimeout(stuck));
      const { code, stderr } = await run.done;
      return { code, stderr };
    },
  };
}

/** A named pipe: `read()` resolves with what a task wrote to it (its open blocks until the task opens it too). */
export function fifo(): { path: string; read(): Promise<string>; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'multiproc-fifo-'));
  const path = join(dir, 'fifo');
  if (spawnSync('mkfifo', [path]).status !== 0) throw new Error('mkfifo failed');
  return {
    path,
    // In the thread pool: the open blocks until the writer comes.
    read: async () => {
      const { readFile } = await import('node:fs/promises');
      return (await readFile(path, 'utf8')).trim();
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

