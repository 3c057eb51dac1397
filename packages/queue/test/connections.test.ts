import { describe, expect, it } from 'vitest';
import { EOFError } from '@multiproc/errors';
import { Process } from '@multiproc/core';
import { Pipe, type Connection } from '@multiproc/pipe';
import { Queue } from '@multiproc/queue';

const fixtures = new URL('./fixtures/connections.mjs', import.meta.url);

describe('Connections in a Queue', () => {
  it('a child puts an end of its Pipe; whoever gets it talks to the child directly', async () => {
    const q = new Queue();
    const p = new Process({ target: { module: fixtures, export: 'putsConnection' }, args: [q] });
    p.start();
    const { conn } = (await q.get()) as { conn: Connection };
    expect(await conn.recv()).toBe(`hello from ${p.pid}`);
    await conn.send('echo');
    expect(await conn.recv()).toBe('echo');
    await expect(conn.recv()).rejects.toBeInstanceOf(EOFError);
    await p.join();
    expect(p.exitCode).toBe(0);
    conn.close();
    q.close();
    await q.joinThread();
  });

  it('in one process, the end put comes out of get() working; the one put is closed', async () => {
    const q = new Queue();
    const [a, b] = Pipe();
    await q.put(a);
    expect(a.closed).toBe(true);
    const a2 = (await q.get()) as Connection;
    await a2.send(1);
    expect(await b.recv()).toBe(1);
    a2.close();
    b.close();
    q.close();
    await q.joinThread();
  });
});
