import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect } from 'vitest';

/** Test segments are named with this prefix, and the fallback of anonymous() uses `mp-anon-`. */
export const PREFIX = `mp-test-${process.pid}-`;
let serial = 0;
export const uniqueName = () => `${PREFIX}${++serial}`;

const ours = () => readdirSync('/dev/shm').filter((n) => n.startsWith(PREFIX) || n.startsWith('mp-anon-'));

/** Checks, after the file's tests, that they left nothing in /dev/shm. */
export function expectNoLeaks(): void {
  const before = new Set(ours());
  afterAll(() => {
    expect(ours().filter((n) => !before.has(n))).toEqual([]);
  });
}

export interface Child {
  proc: ChildProcess;
  /** The next message the child sends. */
  next(): Promise<any>;
  /** Its exit code (or signal name). */
  exited: Promise<number | string>;
}

/** A plain `node` child running test/fixtures/<script> with an IPC channel (fd 3) and `fds` from fd 4 on. */
export function child(script: string, args: unknown[] = [], fds: number[] = []): Child {
  const proc = spawn(process.execPath, [join(__dirname, 'fixtures', script), JSON.stringify(args)], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc', ...fds],
  });
  const queue: any[] = [];
  const takers: ((m: any) => void)[] = [];
  proc.on('message', (m) => (takers.length ? takers.shift()!(m) : queue.push(m)));
  const exited = new Promise<number | string>((resolve) => proc.on('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  return {
    proc,
    next: () => (queue.length ? Promise.resolve(queue.shift()) : new Promise((resolve) => takers.push(resolve))),
    exited,
  };
}

/** Wakes the word until a waiter was really woken: proof that someone was parked on it. */
export async function wakeOne(wake: (v: Int32Array, i: number, n: number) => number, view: Int32Array, index: number): Promise<void> {
  while (wake(view, index, 1) === 0) await new Promise((r) => setImmediate(r));
}

/**
 * How many threads of this process sleep in a shared FUTEX_WAIT_BITSET (the addon's waits; glibc's
 * own condition variables use private futexes), read from /proc/self/task/<tid>/syscall.
 */
export function parkedWaits(): number {
  const futex = process.arch === 'x64' ? 202 : 98;
  let n = 0;
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      if (new RegExp(`^${futex} 0x[0-9a-f]+ 0x9 `).test(readFileSync(`/proc/self/task/${tid}/syscall`, 'utf8'))) n++;
    } catch {
      // the thread ended meanwhile
    }
  }
  return n;
}
