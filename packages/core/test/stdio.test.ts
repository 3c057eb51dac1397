import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const script = fileURLToPath(new URL('./fixtures/scenarios/exit-flood.mjs', import.meta.url));
/** ~2.2 MB: many times what the pipe, `cat` and the socket hold while nobody reads. */
const LINES = 20_000;
const line = (i: number) => `${i} ${'x'.repeat(100)}`;

/** write(2) and writev(2) by architecture. */
const WRITE_SYSCALLS: Partial<Record<string, number[]>> = { x64: [1, 20], arm64: [64, 66], ia32: [4, 146] };

/** Whether `pid` sleeps in write(2), i.e. waits for its reader (/proc/<pid>/syscall says `running` while it runs). */
function blockedInWrite(pid: number): boolean {
  try {
    const writes = WRITE_SYSCALLS[process.arch];
    if (!writes) {
      const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
      return stat.slice(stat.lastIndexOf(')') + 2)[0] === 'S';
    }
    return writes.includes(Number(readFileSync(`/proc/${pid}/syscall`, 'latin1').split(' ')[0]));
  } catch {
    return false; // gone
  }
}

/**
 * Runs exit-flood.mjs with the flooded stream read by nobody until the child either sleeps in
 * write(2) (its output waits for room: the fix) or has exited (what it had not written yet is
 * gone), then reads everything. `via`: 'socket' is what Node's `stdio: 'pipe'` gives a program
 * (a socketpair); 'pipe' puts a real pipe in between (`program | cat`).
 */
async function floodSlowlyRead(stream: 'stdout' | 'stderr', via: 'socket' | 'pipe') {
  const args = [script, stream, String(LINES)];
  const shell = stream === 'stdout' ? '"$0" "$@" | cat' : '{ "$0" "$@" 2>&1 1>&3 3>&- | cat 1>&2; } 3>&1';
  const program = via === 'socket' ? spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] }) : spawn('/bin/sh', ['-c', shell, process.execPath, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const flooded = program[stream]!;
  flooded.pause();
  const closed = new Promise<number | null>((resolve) => program.on('close', resolve));
  let ended = false;
  program.on('exit', () => (ended = true));
  const status: string[] = [];
  let flooding: (pid: number) => void;
  const childPid = new Promise<number>((resolve) => (flooding = resolve));
  createInterface({ input: program[stream === 'stdout' ? 'stderr' : 'stdout']! }).on('line', (l) => {
    status.push(l);
    const m = l.match(/^flooding (\d+)$/);
    if (m) flooding(Number(m[1]));
    if (/^exit /.test(l)) ended = true;
  });
  const pid = await Promise.race([childPid, closed.then(() => 0)]);
  // Polls /proc until one of the two happens: the handshake with a child that cannot say it waits.
  let resumed: 'blocked' | 'exited' = 'exited';
  while (pid && !ended) {
    if (blockedInWrite(pid)) {
      resumed = 'blocked';
      break;
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  const chunks: Buffer[] = [];
  flooded.on('data', (c: Buffer) => chunks.push(c)).resume();
  const code = await closed;
  const lines = Buffer.concat(chunks).toString().split('\n');
  if (lines.at(-1) === '') lines.pop();
  const firstWrong = lines.findIndex((l, i) => l !== line(i));
  return { code, status: status.filter((l) => !l.startsWith('flooding')), count: lines.length, firstWrong, resumed };
}

describe("a child's output written right before process.exit()", () => {
  it.each([
    ['stdout', 'socket'],
    ['stderr', 'socket'],
    ['stdout', 'pipe'],
    ['stderr', 'pipe'],
  ] as const)('on %s reaches a slowly read %s whole and in order', async (stream, via) => {
    const r = await floodSlowlyRead(stream, via);
    expect(r).toEqual({ code: 0, status: ['exit 0'], count: LINES, firstWrong: -1, resumed: 'blocked' });
  });
});
