import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';

/** The live (non-zombie) processes carrying `tag` in their environment: our descendants, even orphaned ones. */
export function liveTagged(tag: string): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (!readFileSync(`/proc/${entry}/environ`, 'latin1').includes(`MULTIPROC_TEST_TAG=${tag}`)) continue;
      const stat = readFileSync(`/proc/${entry}/stat`, 'latin1');
      if (stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z') out.push(Number(entry));
    } catch {
      // gone meanwhile, or not ours
    }
  }
  return out;
}

/** The live child processes of `pid` (from /proc). */
export function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'latin1');
      const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(ppid) === pid && state !== 'Z') out.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

export function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** Waits (polling /proc, bounded) until none of `pids` runs; returns those still running at the deadline. */
export async function whenGone(pids: number[], ms = 10_000): Promise<number[]> {
  const deadline = Date.now() + ms;
  for (;;) {
    const alive = pids.filter(isRunning);
    if (!alive.length || Date.now() > deadline) return alive;
    await new Promise((r) => setTimeout(r, 20));
  }
}

export interface Run {
  child: ChildProcess;
  /** Resolves with the first stdout line matching, a handshake with the script. */
  line(match: RegExp): Promise<RegExpMatchArray>;
  /** Resolves when the script has exited and its output is complete. */
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string; lines: string[] }>;
}

/** Runs `node [nodeArgs] script [args]` as a user would, with stdout/stderr captured. */
export function runNode(script: string, args: string[] = [], opts: { nodeArgs?: string[]; env?: NodeJS.ProcessEnv; cwd?: string } = {}): Run {
  const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), script, ...args], {
    cwd: opts.cwd,
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let stderr = '';
  const waiters: { match: RegExp; resolve: (m: RegExpMatchArray) => void }[] = [];
  createInterface({ input: child.stdout! }).on('line', (l) => {
    lines.push(l);
    for (const w of [...waiters]) {
      const m = l.match(w.match);
      if (m) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(m);
      }
    }
  });
  child.stderr!.on('data', (d) => (stderr += d));
  const done = new Promise<any>((resolve) => {
    child.on('close', (code, signal) => resolve({ code, signal, stdout: lines.join('\n'), stderr, lines }));
  });
  return {
    child,
    line(match) {
      const hit = lines.map((l) => l.match(match)).find(Boolean);
      if (hit) return Promise.resolve(hit);
      return new Promise((resolve, reject) => {
        waiters.push({ match, resolve });
        done.then((r) => reject(new Error(`script ended (code ${r.code}) before printing a line matching ${match}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`)));
      });
    },
    done,
  };
}
