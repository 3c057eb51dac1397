import type { ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';
import { socketFd } from '@multiproc/core/internal';
import { writeSync } from 'node:fs';

/**
 * Unlinks the named segments this process created with `track: true` when it ends (Python 3.13's
 * `track`), however it ends: at a normal exit here, and after SIGKILL by a small process that
 * holds the other end of a pipe and unlinks what is still listed when the pipe closes (Python's
 * resource tracker, per creating process). It starts with the first tracked segment.
 */
const tracked = new Set<string>();
let tracker: ChildProcess | null = null;
let unlinkName: ((name: string) => void) | null = null;

const TRACKER = `
const { shmUnlink } = require(process.argv[1]);
const names = new Set();
let rest = '';
process.stdin.on('data', (chunk) => {
  const lines = (rest + chunk).split('\\n');
  rest = lines.pop();
  for (const line of lines) (line[0] === '+' ? names.add(line.slice(1)) : names.delete(line.slice(1)));
});
process.stdin.on('end', () => {
  for (const name of names) try { shmUnlink(name); } catch {}
});
`;

export function track(name: string, unlink: (name: string) => void): void {
  unlinkName = unlink;
  if (!tracker) {
    const { spawn } = require('node:child_process') as typeof import('node:child_process');
    // Its own session: a signal to this program's process group leaves it to clean up after.
    tracker = spawn(process.execPath, ['-e', TRACKER, require.resolve('@multiproc/native')], { stdio: ['pipe', 'ignore', 'inherit'], detached: true });
    tracker.on('error', () => {});
    tracker.unref();
    (tracker.stdin as Socket).unref();
    tracker.stdin!.on('error', () => {});
    process.on('exit', unlinkTracked);
  }
  tracked.add(name);
  tell(`+${name}`);
}

export function untrack(name: string): void {
  if (tracked.delete(name)) tell(`-${name}`);
}

function tell(line: string): void {
  // Written at once, so the tracker's list is never behind this process's, even at exit.
  const fd = socketFd(tracker?.stdin as Socket | undefined);
  try {
    if (fd >= 0) return void writeSync(fd, `${line}\n`);
  } catch {
    // the pipe is full (EAGAIN): queue it instead
  }
  tracker?.stdin?.write(`${line}\n`);
}

function unlinkTracked(): void {
  for (const name of tracked) {
    try {
      unlinkName!(name);
    } catch {
      // unlinked by another process already
    }
    untrack(name);
  }
}
