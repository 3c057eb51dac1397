import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import * as native from '@multiproc/native';
import { processStartTime } from '@multiproc/native';

const state = (pid: number) => readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '')[0];

describe('processStartTime', () => {
  it('is a stable bigint for a live process, matching /proc/<pid>/stat', () => {
    const t = processStartTime(process.pid);
    expect(typeof t).toBe('bigint');
    expect(processStartTime(process.pid)).toBe(t);
    const fields = readFileSync(`/proc/${process.pid}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ');
    expect(t).toBe(BigInt(fields[19]));
    expect(processStartTime(process.ppid)! <= t!).toBe(true);
  });

  it('is null for a process that ended and was reaped', async () => {
    const c = spawn(process.execPath, ['-e', '0']);
    const pid = c.pid!;
    await new Promise((r) => c.on('exit', r));
    expect(processStartTime(pid)).toBeNull();
  });

  it('is null for a zombie (exited, not yet reaped by its parent)', async () => {
    // sh starts a reader in the background and becomes `sleep`, which never reaps it; once sh is
    // `sleep` (else sh itself might reap it), closing the reader's pipe ends it: a zombie.
    const parent = spawn('sh', ['-c', 'read _ <&3 & echo $!; exec sleep 30'], { stdio: ['ignore', 'pipe', 'inherit', 'pipe'] });
    const pid = Number(await new Promise<string>((r) => parent.stdout!.once('data', (d) => r(String(d)))));
    const comm = () => readFileSync(`/proc/${parent.pid}/comm`, 'utf8').trim();
    while (comm() !== 'sleep') await new Promise((r) => setImmediate(r));
    (parent.stdio[3] as NodeJS.WritableStream).end();
    while (state(pid) !== 'Z') await new Promise((r) => setImmediate(r));
    expect(processStartTime(pid)).toBeNull();
    parent.kill();
    await new Promise((r) => parent.on('exit', r));
  });

  it('refuses a pid that is not a positive integer', () => {
    expect(() => processStartTime(0)).toThrow(/pid must be a process id/);
    expect(() => processStartTime(-1)).toThrow(RangeError);
    expect(() => processStartTime(1.5)).toThrow(RangeError);
    expect(() => processStartTime('1' as any)).toThrow(TypeError);
  });
});

describe('without a binary for the platform', () => {
  it('imports, loadError() names the platform and what to do, every function throws a ProcessError', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'multiproc-native-empty-'));
    try {
      const script = `
        const native = require('@multiproc/native');
        const { ProcessError } = require('@multiproc/errors');
        const err = native.loadError();
        const calls = {
          shmOpen: () => native.shmOpen('x', 'attach'), shmUnlink: () => native.shmUnlink('x'), anonymous: () => native.anonymous(),
          map: () => native.map(0, 1), unmap: () => native.unmap(new ArrayBuffer(1)), wait: () => native.wait(new Int32Array(1), 0, 0, 0),
          wake: () => native.wake(new Int32Array(1), 0, 1), waitAsync: () => native.waitAsync(new Int32Array(1), 0, 0, 0, () => {}),
          processStartTime: () => native.processStartTime(1), exitNow: () => native.exitNow(0),
        };
        const thrown = {};
        for (const [name, call] of Object.entries(calls)) {
          try { call(); thrown[name] = 'returned'; } catch (e) { thrown[name] = e instanceof ProcessError && e.message === err.message ? 'ProcessError' : String(e); }
        }
        console.log(JSON.stringify({ message: err && err.message, thrown }));`;
      const { stdout } = await promisify(execFile)(process.execPath, ['-e', script], {
        // node-gyp-build's own override of where a package's binaries are (<NAME>_PREBUILD).
        env: { ...process.env, '@MULTIPROC/NATIVE_PREBUILD': empty },
        cwd: __dirname,
      });
      const out = JSON.parse(stdout);
      expect(out.message).toMatch(new RegExp(`no binary for ${process.platform}-${process.arch}-glibc \\(Node v`));
      expect(out.message).toMatch(/build it from source/);
      expect(Object.keys(out.thrown).sort()).toEqual(Object.keys(native).filter((k) => k !== 'loadError').sort());
      expect(Object.values(out.thrown)).toEqual(Array(10).fill('ProcessError'));
    } finally {
      rmSync(empty, { recursive: true });
    }
  });
});
