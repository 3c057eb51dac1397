import { statSync } from 'node:fs';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, onTestFinished } from 'vitest';
import { AuthenticationError } from '@multiproc/errors';
import { Client, Listener, type ListenerOptions } from '@multiproc/pipe';
import { runNode } from '../../core/test/helpers/procs';

const clientScript = fileURLToPath(new URL('./fixtures/client.mjs', import.meta.url));

/** A Listener closed when the test ends, passed or not: no socket or temp dir is left behind. */
function listen(options?: ListenerOptions): Listener {
  const listener = new Listener(undefined, options);
  onTestFinished(() => listener.close());
  return listener;
}

/** The Client fixture in a process of its own (the key goes as hex); killed if the test ends first. */
function clientProcess(address: string, authkey?: Buffer) {
  const run = runNode(clientScript, authkey === undefined ? [address] : [address, authkey.toString('hex')]);
  onTestFinished(() => {
    run.child.kill();
  });
  return run;
}

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
    ['an empty key on the listener, a non-empty one on the client', Buffer.alloc(0), Buffer.from('x')],
    ['a non-empty key on the listener, an empty one on the client', Buffer.from('x'), Buffer.alloc(0)],
    ['an empty key on the listener, none on the client', Buffer.alloc(0), null],
    ['an empty key on the client, none on the listener', null, Buffer.alloc(0)],
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
    expect(() => new Listener(undefined, { authkey: 'pw' as any })).toThrow(/authkey must be a Buffer/);
    expect(() => new Listener(undefined, { bogus: 1 } as any)).toThrow(/unknown option 'bogus'/);
    await expect(Client('/nonexistent/multiproc.sock')).rejects.toThrow(/cannot connect/);
    await expect(new Listener('/nonexistent/dir/x.sock').ready()).rejects.toThrow(/cannot listen/);
    const listener = new Listener();
    const waiting = listener.accept();
    listener.close();
    await expect(waiting).rejects.toThrow(/closed/);
  });

  it('an empty authkey is a key, as b"" is in Python: both sides with one run the handshake and talk', async () => {
    const listener = listen({ authkey: Buffer.alloc(0) });
    const { server, client } = await pair(listener, Buffer.alloc(0));
    expect(server.status).toBe('fulfilled');
    expect(client.status).toBe('fulfilled');
    const [s, c] = [(server as PromiseFulfilledResult<any>).value, (client as PromiseFulfilledResult<any>).value];
    await c.send('empty key');
    expect(await s.recv()).toBe('empty key');
    s.close();
    c.close();
    // And from another process, with the key coming in as an empty argument.
    const run = clientProcess(listener.address as string, Buffer.alloc(0));
    const conn = await listener.accept();
    await conn.send('across');
    expect(await conn.recv()).toEqual(['echo', 'across']);
    expect((await run.done).code).toBe(0);
    conn.close();
  });
});

describe('Client() without an authkey', () => {
  it('resolves once connected, before accept(): one process can connect, then accept', async () => {
    const listener = listen();
    const client = await Client(listener.address as string);
    const server = await listener.accept();
    await client.send('connected first');
    expect(await server.recv()).toBe('connected first');
    await server.send('accepted after');
    expect(await client.recv()).toBe('accepted after');
    client.close();
    server.close();
  });

  it('in another process, resolves while the listener has not called accept() yet', async () => {
    const listener = listen();
    const run = clientProcess(listener.address as string);
    await run.line(/^connected$/);
    const conn = await listener.accept();
    await conn.send('ping');
    expect(await conn.recv()).toEqual(['echo', 'ping']);
    expect((await run.done).code).toBe(0);
    conn.close();
  });
});

describe('accept({ signal })', () => {
  it('rejects with an AbortError when aborted; the connection that comes next goes to the next accept()', async () => {
    const listener = await listen().ready(); // bound: each accept() below is in line once called
    const ac = new AbortController();
    const aborted = listener.accept({ signal: ac.signal });
    const waiting = listener.accept();
    ac.abort();
    await expect(aborted).rejects.toMatchObject({ name: 'AbortError' });
    // The aborted accept() was first in line: the connection must go to the one still waiting.
    const client = await Client(listener.address as string);
    const server = await waiting;
    await client.send('not swallowed');
    expect(await server.recv()).toBe('not swallowed');
    // And to one made after the abort, from another process.
    const run = clientProcess(listener.address as string);
    const conn = await listener.accept();
    await conn.send('later');
    expect(await conn.recv()).toEqual(['echo', 'later']);
    expect((await run.done).code).toBe(0);
    for (const c of [client, server, conn]) c.close();
  });

  it('a signal already aborted rejects at once, and leaves a waiting connection to the next accept()', async () => {
    const listener = listen();
    const run = clientProcess(listener.address as string);
    await run.line(/^connected$/); // its connection waits at the listener
    const reason = new Error('changed my mind');
    await expect(listener.accept({ signal: AbortSignal.abort(reason) })).rejects.toMatchObject({ name: 'AbortError', cause: reason });
    const conn = await listener.accept();
    await conn.send('still here');
    expect(await conn.recv()).toEqual(['echo', 'still here']);
    expect((await run.done).code).toBe(0);
    conn.close();
  });

  it('aborted in the middle of a handshake, it leaves that connection to the next accept()', async () => {
    const authkey = Buffer.from('key');
    const listener = listen({ authkey });
    // A client that never answers the challenge: the handshake waits on it.
    const raw = connect(listener.address as string);
    onTestFinished(() => {
      raw.destroy();
    });
    let heard = '';
    const challenged = new Promise<void>((resolve) =>
      raw.on('data', (chunk) => {
        heard += chunk.toString('latin1');
        if (heard.includes('#CHALLENGE#')) resolve();
      }),
    );
    const ac = new AbortController();
    const aborted = listener.accept({ signal: ac.signal });
    await challenged; // accept() took the connection and is in its handshake
    ac.abort();
    await expect(aborted).rejects.toMatchObject({ name: 'AbortError' });
    // The next accept() goes on with that handshake: its client goes away, so that accept fails...
    const next = listener.accept();
    raw.destroy();
    await expect(next).rejects.toBeInstanceOf(AuthenticationError);
    // ...and the Listener goes on accepting.
    const { server, client } = await pair(listener, authkey);
    expect(server.status).toBe('fulfilled');
    expect(client.status).toBe('fulfilled');
    (server as PromiseFulfilledResult<any>).value.close();
    (client as PromiseFulfilledResult<any>).value.close();
  });

  it('takes an options object with only a signal', () => {
    const listener = listen();
    expect(() => listener.accept({ timeout: 1 } as any)).toThrow(/accept\(options\): unknown option 'timeout'; the only option is signal/);
    expect(() => listener.accept({ signal: 'now' } as any)).toThrow(/accept\(options\): signal must be an AbortSignal, got the string "now"/);
    expect(() => listener.accept(null as any)).toThrow(/accept\(options\): options must be an object such as \{ signal \}, got null/);
    expect(() => listener.accept(5 as any)).toThrow(TypeError);
  });
});
