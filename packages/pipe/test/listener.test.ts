import { statSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AuthenticationError } from '@multiproc/errors';
import { Client, Listener } from '@multiproc/pipe';

async function pair(listener: Listener, clientKey: Buffer | null) {
  await listener.ready();
  const [server, client] = await Promise.allSettled([listener.accept(), Client(listener.address as any, { authkey: clientKey })]);
  return { server, client };
}

describe('Listener and Client', () => {
  it('connect over a Unix socket that only its owner may use', async () => {
    const listener = new Listener();
    const path = listener.address as string;
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const [server, client] = await Promise.all([listener.accept(), Client(path)]);
    await client.send({ hello: 'server' });
    expect(await server.recv()).toEqual({ hello: 'server' });
    await server.send('hi');
    expect(await client.recv()).toBe('hi');
    client.close();
    server.close();
    listener.close();
  });

  it('connect over TCP loopback, by [host, port] and by "host:port"', async () => {
    const listener = await new Listener(['localhost', 0], { family: 'AF_INET' }).ready();
    const [host, port] = listener.address as [string, number];
    expect(port).toBeGreaterThan(0);
    const [s1, c1] = await Promise.all([listener.accept(), Client([host, port])]);
    const [s2, c2] = await Promise.all([listener.accept(), Client(`127.0.0.1:${port}`)]);
    await c1.send(1);
    await c2.send(2);
    expect([await s1.recv(), await s2.recv()]).toEqual([1, 2]);
    for (const c of [s1, c1, s2, c2]) c.close();
    listener.close();
  });

  it('with the same authkey both sides authenticate, then talk', async () => {
    const key = Buffer.from('secret password');
    const listener = new Listener(undefined, { authkey: key });
    const { server, client } = await pair(listener, key);
    expect(server.status).toBe('fulfilled');
    expect(client.status).toBe('fulfilled');
    const [s, c] = [(server as PromiseFulfilledResult<any>).value, (client as PromiseFulfilledResult<any>).value];
    await c.send('authenticated');
    expect(await s.recv()).toBe('authenticated');
    s.close();
    c.close();
    listener.close();
  });

  it.each([
    ['a wrong key', Buffer.from('right'), Buffer.from('wrong')],
    ['a key missing on the client', Buffer.from('right'), null],
    ['a key missing on the listener', null, Buffer.from('extra')],
  ])('%s fails with AuthenticationError on both sides, delivering nothing', async (_what, serverKey, clientKey) => {
    const listener = new Listener(['127.0.0.1', 0], { authkey: serverKey });
    const { server, client } = await pair(listener, clientKey);
    expect(server.status).toBe('rejected');
    expect(client.status).toBe('rejected');
    expect((server as PromiseRejectedResult).reason).toBeInstanceOf(AuthenticationError);
    expect((client as PromiseRejectedResult).reason).toBeInstanceOf(AuthenticationError);
    listener.close();
  });

  it('checks its arguments and fails clearly when nobody listens', async () => {
    expect(() => new Listener(42 as any)).toThrow(TypeError);
    expect(() => new Listener(undefined, { backlog: 0 })).toThrow(/backlog/);
    expect(() => new Listener(undefined, { authkey: 'pw' as any })).toThrow(/authkey must be a non-empty Buffer/);
    expect(() => new Listener(undefined, { bogus: 1 } as any)).toThrow(/unknown option 'bogus'/);
    await expect(Client('/nonexistent/multiproc.sock')).rejects.toThrow(/cannot connect/);
    await expect(new Listener('/nonexistent/dir/x.sock').ready()).rejects.toThrow(/cannot listen/);
    const listener = new Listener();
    const waiting = listener.accept();
    listener.close();
    await expect(waiting).rejects.toThrow(/closed/);
  });
});
