import { describe, expect, it } from 'vitest';
import { EOFError, ProcessError } from '@multiproc/errors';
import { Process } from '@multiproc/core';
import { Listener, Pipe, type Connection } from '@multiproc/pipe';
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runNode } from '../../core/test/helpers/procs';

const fixtures = new URL('./fixtures/handoff.mjs', import.meta.url);
const ref = (name: string) => ({ module: fixtures, export: name });

/** `n` round trips on `conn` with the echo fixture; returns the pids that answered. */
async function talk(conn: Connection, n: number): Promise<Set<number>> {
  const pids = new Set<number>();
  for (let i = 0; i < n; i++) {
    await conn.send({ i });
    const [pid, m] = await conn.recv();
    expect(m).toEqual({ i });
    pids.add(pid);
  }
  return pids;
}

describe('a Connection sent in a message, in one process', () => {
  it('arrives working, with what the sent end had read ahead; the sent end is closed', async () => {
    const [a, b] = Pipe();
    const [c, d] = Pipe();
    for (let i = 0; i < 5; i++) await d.send(i);
    expect(await c.recv()).toBe(0);
    expect(await c.poll(null)).toBe(true); // read ahead: 1..4 sit in c now
    await a.send({ conn: c });
    expect(c.closed).toBe(true);
    expect(() => c.send(1)).toThrow(/sent to another process, which owns it now/);
    expect(() => a.send(c)).toThrow(/cannot send this Connection again/);
    const { conn } = await b.recv();
    for (let i = 1; i < 5; i++) expect(await conn.recv()).toBe(i);
    await conn.send('back');
    expect(await d.recv()).toBe('back');
    conn.close();
    await expect(d.recv()).rejects.toBeInstanceOf(EOFError);
    for (const x of [a, b, d]) x.close();
  });

  it('an end sent right after Pipe() returned (its socket still being made) works too', async () => {
    const [a, b] = Pipe();
    const [c, d] = Pipe();
    await a.send([c, d]);
    const [c2, d2] = await b.recv();
    await c2.send('x');
    expect(await d2.recv()).toBe('x');
    for (const x of [a, b, c2, d2]) x.close();
  });
});

describe('a Connection sent to a process that is already running', () => {
  it('parent → child: the child then talks to the other end directly; ours is closed', async () => {
    const [ctrl, ctrlChild] = Pipe();
    const p = new Process({ target: ref('echoReceived'), args: [ctrlChild] });
    p.start();
    ctrlChild.close();
    const [x, y] = Pipe();
    await ctrl.send(y);
    expect(y.closed).toBe(true);
    expect(() => y.recv()).toThrow(/sent to another process/);
    expect(await talk(x, 100)).toEqual(new Set([p.pid]));
    await x.send('stop');
    await expect(x.recv()).rejects.toBeInstanceOf(EOFError); // the child's was the last descriptor
    await p.join();
    expect(p.exitCode).toBe(0);
    x.close();
    ctrl.close();
  });

  it('child → parent: an end of a Pipe the child made', async () => {
    const [ctrl, ctrlChild] = Pipe();
    const p = new Process({ target: ref('offerPipe'), args: [ctrlChild] });
    p.start();
    ctrlChild.close();
    const conn: Connection = await ctrl.recv();
    expect(await ctrl.recv()).toEqual({ closed: true, error: expect.stringMatching(/sent to another process/) });
    expect(await talk(conn, 100)).toEqual(new Set([p.pid]));
    await conn.send('stop');
    await expect(conn.recv()).rejects.toBeInstanceOf(EOFError);
    await p.join();
    expect(p.exitCode).toBe(0);
    conn.close();
    ctrl.close();
  });

  it('a child that sends a Connection and ends at once: its parent keeps it for the receiver', async () => {
    const [ctrl, ctrlChild] = Pipe();
    const [x, y] = Pipe();
    const p = new Process({ target: ref('returnAndExit'), args: [ctrlChild, y] });
    p.start();
    ctrlChild.close();
    y.close();
    await p.join(); // gone before anyone asked for the Connection
    expect(p.exitCode).toBe(0);
    const back: Connection = await ctrl.recv();
    await back.send('hi');
    expect(await x.recv()).toBe('hi');
    back.close();
    await expect(x.recv()).rejects.toBeInstanceOf(EOFError);
    x.close();
    ctrl.close();
  });

  it('child → sibling, routed through the parent that made both', async () => {
    const [link, linkB] = Pipe();
    const [report, reportIn] = Pipe();
    const a = new Process({ target: ref('offerPipe'), args: [link] });
    const b = new Process({ target: ref('pingReceived'), args: [linkB, reportIn] });
    a.start();
    b.start();
    for (const c of [link, linkB, reportIn]) c.close();
    expect(await report.recv()).toEqual([a.pid, 'ping']);
    await a.join();
    await b.join();
    expect([a.exitCode, b.exitCode]).toEqual([0, 0]);
    report.close();
  });

  it('main ↔ grandchild both ways, through a middle process that is blocked meanwhile', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'handoff-'));
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    try {
      const [ctrl, ctrlChild] = Pipe();
      const [report, reportIn] = Pipe();
      const m = new Process({ target: ref('middle'), args: [ctrlChild, reportIn, fifo] });
      m.start();
      ctrlChild.close();
      reportIn.close();
      const [x, y] = Pipe();
      await ctrl.send(y);
      const fromBelow: Connection = await ctrl.recv();
      await x.send('first');
      await fromBelow.send('first');
      expect(await report.recv()).toBe('blocking'); // the middle process's thread is stuck in open()
      const pids = new Set([...(await talk(x, 200)), ...(await talk(fromBelow, 200))]);
      expect(pids.size).toBe(1);
      expect(pids.has(m.pid!)).toBe(false);
      const fd = openSync(fifo, 'w');
      writeSync(fd, 'x');
      closeSync(fd);
      await x.send('stop');
      await fromBelow.send('stop');
      await m.join();
      expect(m.exitCode).toBe(0);
      for (const c of [ctrl, report, x, fromBelow]) c.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('hand-offs that cannot happen', () => {
  it('the sender was killed before anyone pulled: the received Connection says so', async () => {
    const [ctrl, ctrlChild] = Pipe();
    const p = new Process({ target: ref('offerAndDie'), args: [ctrlChild] });
    p.start();
    ctrlChild.close();
    await p.join();
    expect(p.exitCode).toBe(-9);
    const conn: Connection = await ctrl.recv();
    await expect(conn.recv()).rejects.toThrow(ProcessError);
    await expect(conn.recv()).rejects.toThrow(/could not be handed over: .*ended/);
    await expect(conn.send(1)).rejects.toThrow(/could not be handed over/);
    conn.close();
    ctrl.close();
  });

  it('a process outside our tree (connected through a Listener): a clear error', async () => {
    const listener = new Listener();
    const run = runNode(fileURLToPath(new URL('./fixtures/stranger.mjs', import.meta.url)), [listener.address as string]);
    const conn = await listener.accept();
    const got: Connection = await conn.recv();
    await expect(got.recv()).rejects.toThrow(/not in this process tree/);
    await conn.send('done');
    expect((await run.done).code).toBe(0);
    got.close();
    conn.close();
    listener.close();
  });
});
