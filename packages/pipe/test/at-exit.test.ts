import { describe, expect, it } from 'vitest';
import { EOFError } from '@multiproc/errors';
import { Process } from '@multiproc/core';
import { Pipe } from '@multiproc/pipe';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runNode } from '../../core/test/helpers/procs';

const fixtures = new URL('./fixtures/at-exit.mjs', import.meta.url);
const ref = (name: string) => ({ module: fixtures, export: name });

/** A fresh directory for handshake files, removed after `body`. */
async function withDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'multiproc-test-'));
  try {
    await body(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Blocks this thread until `flag` exists, for at most 20 s; whether it came. */
function blockUntil(flag: string): boolean {
  const until = Date.now() + 20_000;
  while (!existsSync(flag) && Date.now() < until);
  return existsSync(flag);
}

describe('nothing sent is lost: process.exit() right after a send', () => {
  for (const how of ['await', 'no-await'] as const) {
    it(`${how === 'await' ? 'await send(x)' : 'send(x)'}; process.exit(0): the parent receives x`, async () => {
      const [a, b] = Pipe();
      const p = new Process({ target: ref('sendThenExit'), args: [b, how] });
      p.start();
      b.close();
      expect(await a.recv()).toBe('x');
      await p.join();
      expect(p.exitCode).toBe(0);
      a.close();
    });
  }

  it('20,000 unawaited sends, then process.exit(0): every one arrives, in order', async () => {
    const [a, b] = Pipe();
    const p = new Process({ target: ref('sendThenExit'), args: [b, 'many'] });
    p.start();
    b.close();
    for (let i = 0; i < 20_000; i++) expect((await a.recv()).i).toBe(i);
    await expect(a.recv()).rejects.toThrow(EOFError);
    await p.join();
    a.close();
  });

  it('8 MiB (more than the socket holds), then process.exit(0): the exit writes the rest while we read', async () => {
    const [a, b] = Pipe();
    const p = new Process({ target: ref('sendThenExit'), args: [b, 'big'] });
    p.start();
    b.close();
    const got = await a.recvBytes();
    expect(got.length).toBe(8 * 2 ** 20);
    expect(got.every((x) => x === 7)).toBe(true);
    await p.join();
    expect(p.exitCode).toBe(0);
    a.close();
  });

  it('small, big and small sends of one tick, then process.exit(0): all arrive in order', async () => {
    const [a, b] = Pipe();
    const p = new Process({ target: ref('sendThenExit'), args: [b, 'mixed'] });
    p.start();
    b.close();
    for (let i = 0; i < 100; i++) expect(await a.recv()).toEqual({ i });
    expect((await a.recv()).length).toBe(3 * 2 ** 20);
    expect(await a.recv()).toBe('last');
    await p.join();
    a.close();
  });
  it('a peer that never reads: the exit gives up once it took nothing for a while, and says what was lost', async () => {
    const script = fileURLToPath(new URL('./fixtures/never-read.mjs', import.meta.url));
    const { code, stdout, stderr } = await runNode(script, [], { env: { MULTIPROC_EXIT_STALL_MS: '200' } }).done;
    expect(code).toBe(0);
    expect(stdout).toBe('sent');
    expect(stderr).toMatch(/MultiprocWarning: a Connection \(<Connection duplex>\): \d+ bytes sent before this process exited could not be delivered/);
  });
});

describe('a sent message does not wait for the sender’s event loop', () => {
  for (const awaited of [true, false]) {
    it(`${awaited ? 'await send' : 'send'}('a'), then the sender blocks: the peer has 'a' meanwhile`, async () => {
      await withDir(async (dir) => {
        const flag = join(dir, 'got-a');
        const [a, b] = Pipe();
        const p = new Process({ target: ref('sendThenBlock'), args: [b, flag, awaited] });
        p.start();
        b.close();
        // The child blocks until this flag exists, which we make only once 'a' came: had 'a'
        // waited for the child's event loop, it would come after the child's 20 s cap.
        const first = await a.recv({ signal: AbortSignal.timeout(15_000) });
        writeFileSync(flag, '');
        expect(first).toBe('a');
        expect(await a.recv()).toBe('unblocked');
        await p.join();
        a.close();
      });
    });
  }

  it("a 'go' sent by a parent that then blocks reaches the child meanwhile", async () => {
    await withDir(async (dir) => {
      const flag = join(dir, 'went');
      const [a, b] = Pipe();
      const p = new Process({ target: ref('makeFlagOnGo'), args: [b, flag] });
      p.start();
      b.close();
      expect(await a.recv()).toBe('ready');
      a.send('go');
      expect(blockUntil(flag)).toBe(true); // the child makes it once it has 'go'
      await p.join();
      a.close();
    });
  });
});

describe('a peer that closed', () => {
  it('a receive on an end whose peer this process closed sees the EOF, and keeps the process alive until then', async () => {
    const { code, stdout, stderr } = await runNode(fileURLToPath(new URL('./fixtures/own-closed.mjs', import.meta.url))).done;
    expect({ code, stdout, stderr }).toEqual({ code: 0, stdout: 'EOFError', stderr: '' });
  });

  it('the same in a child', async () => {
    const [a, b] = Pipe();
    const p = new Process({ target: ref('recvOwnClosed'), args: [b] });
    p.start();
    b.close();
    expect(await a.recv()).toBe('EOFError');
    await p.join();
    a.close();
  });

  it('send() to a peer that closed rejects with EOFError (Python: BrokenPipeError), every time', async () => {
    const [a, b] = Pipe();
    b.close();
    expect(await a.poll(null)).toBe(true); // the EOF
    for (let i = 0; i < 3; i++) await expect(a.send('x')).rejects.toMatchObject({ name: 'EOFError', code: 'EPIPE' });
    await expect(a.sendBytes(Buffer.alloc(100_000))).rejects.toThrow(/peer closed/);
    a.close();
  });

  it('send() to a child that closed its end and exited rejects', async () => {
    const [a, b] = Pipe();
    const p = new Process({ target: ref('closeAtOnce'), args: [b] });
    p.start();
    b.close();
    await p.join();
    await expect(a.recv()).rejects.toThrow(EOFError);
    await expect(a.send('x')).rejects.toThrow(EOFError);
    a.close();
  });
});

describe('nothing left behind', () => {
  it('a process SIGKILLed after making Pipes leaves no socket directory (it lives only until both ends exist)', async () => {
    await withDir(async (dir) => {
      const run = runNode(fileURLToPath(new URL('./fixtures/pipes-then-wait.mjs', import.meta.url)), [], { env: { TMPDIR: dir } });
      await run.line(/^ready$/);
      run.child.kill('SIGKILL');
      expect((await run.done).signal).toBe('SIGKILL');
      expect(readdirSync(dir)).toEqual([]);
    });
  });
});
