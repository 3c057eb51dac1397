import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { liveTagged } from '../../packages/core/test/helpers/procs';

/** The examples directory: examples run from here, as `npx tsx <file>` would. */
export const EXAMPLES = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** `node_modules/.bin/tsx`, found the way npm finds it: in the nearest node_modules up the tree. */
function findTsx(): string {
  for (let dir = EXAMPLES; ; dir = dirname(dir)) {
    const bin = join(dir, 'node_modules', '.bin', 'tsx');
    if (existsSync(bin)) return bin;
    if (dirname(dir) === dir) throw new Error(`node_modules/.bin/tsx not found above ${EXAMPLES}`);
  }
}

export interface ExampleRun {
  /** Exit code of the example (null if it was killed by a signal, see `signal`). */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** stdout split into lines, without the trailing empty one. */
  lines: string[];
  /** Processes carrying the run's tag that were still alive once the example had finished. */
  leftBehind: number[];
}

/**
 * Runs `node_modules/.bin/tsx <file>` (or `node <file>` for .mjs) in the examples directory and
 * collects its output. The run is finished when the example has exited and its stdout and stderr
 * are closed: every process that inherited them (all children, daemons included) has let go of
 * them, i.e. has exited. Then no process with the run's tag may be alive. If the pipes are not
 * closed within `graceMs` of the example's exit, something it started is still running: that is
 * reported in `leftBehind` (and those processes are killed, so one failure does not leak into
 * the next test). `env` adds to the example's environment.
 */
export function runExample(file: string, { graceMs = 3_000, env = {} }: { graceMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<ExampleRun> {
  const tag = randomUUID();
  const [cmd, args] = file.endsWith('.mjs') ? [process.execPath, [file]] : [findTsx(), [file]];
  const child = spawn(cmd, args, {
    cwd: EXAMPLES,
    env: { ...process.env, ...env, MULTIPROC_TEST_TAG: tag },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));

  return new Promise((resolvePromise, reject) => {
    let exited: { code: number | null; signal: NodeJS.Signals | null } | null = null;
    let timer: NodeJS.Timeout | undefined;
    let finished = false;
    const finish = (closed: boolean) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      const leftBehind = liveTagged(tag);
      for (const pid of leftBehind) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      if (!closed) stderr += `\n[runExample] stdout/stderr still open ${graceMs} ms after the example exited\n`;
      const lines = stdout.split('\n');
      if (lines.at(-1) === '') lines.pop();
      resolvePromise({ ...exited!, stdout, stderr, lines, leftBehind });
    };
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      exited = { code, signal };
      timer = setTimeout(() => finish(false), graceMs);
    });
    child.on('close', (code, signal) => {
      exited ??= { code, signal };
      finish(true);
    });
  });
}

/** `lines` sorted, for comparing output whose order the OS scheduler decides. */
export function sorted(lines: string[]): string[] {
  return [...lines].sort();
}
