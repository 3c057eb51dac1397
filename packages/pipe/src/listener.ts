import { describeValue } from '@multiproc/core';
import { ProcessError } from '@multiproc/errors';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clientHandshake, serverHandshake } from './auth';
import { Connection, INTERNAL } from './connection';

export type Family = 'AF_UNIX' | 'AF_INET' | 'AF_INET6';
/** A Unix socket path, `'host:port'`, or `[host, port]` (Python's `('localhost', 6000)`). */
export type Address = string | [host: string, port: number];

export interface ListenerOptions {
  family?: Family;
  backlog?: number;
  /** When given, both sides prove they hold it (HMAC challenge-response) before any message. */
  authkey?: Buffer | Uint8Array | null;
}

type Where = { path: string } | { host: string; port: number };

function parseAddress(address: unknown, family: Family | undefined, what: string): Where {
  if (family !== undefined && !['AF_UNIX', 'AF_INET', 'AF_INET6'].includes(family)) {
    throw new TypeError(`${what}: family must be 'AF_UNIX', 'AF_INET' or 'AF_INET6', got ${describeValue(family)}`);
  }
  if (Array.isArray(address) && address.length === 2 && typeof address[0] === 'string' && Number.isInteger(address[1])) {
    return { host: address[0], port: address[1] };
  }
  if (typeof address === 'string' && address) {
    const m = /^(.*):(\d+)$/.exec(address);
    if (family !== 'AF_UNIX' && m && !address.includes('/')) return { host: m[1].replace(/^\[(.*)\]$/, '$1'), port: Number(m[2]) };
    return { path: address };
  }
  throw new TypeError(`${what}: address must be a Unix socket path, 'host:port' or [host, port], got ${describeValue(address)}`);
}

function checkKey(authkey: unknown, what: string): Buffer | null {
  if (authkey === undefined || authkey === null) return null;
  if (!(authkey instanceof Uint8Array) || authkey.length === 0) throw new TypeError(`${what}: authkey must be a non-empty Buffer`);
  return Buffer.from(authkey);
}

/** A bind to 'localhost' stays synchronous (no DNS lookup), so `address` is known at once. */
const host = (h: string) => (h === 'localhost' ? '127.0.0.1' : h);

/**
 * Python's `multiprocessing.connection.Listener`: accepts connections made by `Client()`, over a
 * Unix socket (the default: a fresh path only its owner may connect to) or TCP.
 */
export class Listener {
  #server: Server;
  #where: Where;
  #authkey: Buffer | null;
  #sockets: Socket[] = [];
  #waiters: ((s: Socket | null) => void)[] = [];
  #closed = false;
  #tmpdir: string | null = null;
  #listening: Promise<void>;
  #stopListening: (err: Error) => void = () => {};

  constructor(address?: Address | null, options: ListenerOptions = {}) {
    if (options === null || typeof options !== 'object') throw new TypeError('Listener(address, options): options must be an object');
    const { family, backlog = 128, authkey, ...rest } = options;
    const unknown = Object.keys(rest);
    if (unknown.length) throw new TypeError(`Listener: unknown option ${unknown.map((k) => `'${k}'`).join(', ')}; the options are family, backlog, authkey`);
    if (!Number.isInteger(backlog) || backlog < 1) throw new TypeError(`Listener: backlog must be a positive integer, got ${describeValue(backlog)}`);
    this.#authkey = checkKey(authkey, 'Listener');
    if (address === undefined || address === null) {
      if (family === 'AF_INET' || family === 'AF_INET6') this.#where = { host: family === 'AF_INET6' ? '::1' : '127.0.0.1', port: 0 };
      else {
        this.#tmpdir = mkdtempSync(join(tmpdir(), 'multiproc-listener-'));
        this.#where = { path: join(this.#tmpdir, 'listener.sock') };
      }
    } else this.#where = parseAddress(address, family, 'Listener');
    this.#server = createServer({ allowHalfOpen: true, pauseOnConnect: true }, (socket) => {
      const waiter = this.#waiters.shift();
      if (waiter) waiter(socket);
      else this.#sockets.push(socket);
    });
    this.#server.unref();
    this.#listening = new Promise((resolve, reject) => {
      this.#stopListening = reject;
      this.#server.once('listening', resolve);
      // A later error (e.g. out of file descriptors while accepting) must not crash the process.
      this.#server.on('error', (err) => reject(new ProcessError(`Listener: cannot listen on ${JSON.stringify(this.address)}: ${err.message}`, { cause: err })));
    });
    this.#listening.catch(() => {}); // reported by ready() and accept()
    if ('path' in this.#where) {
      // Created with mode 0600: only this user can connect.
      const old = process.umask(0o177);
      try {
        this.#server.listen({ path: this.#where.path, backlog });
      } finally {
        process.umask(old);
      }
    } else {
      this.#server.listen({ host: host(this.#where.host), port: this.#where.port, backlog });
    }
  }

  /**
   * Resolves once the listener is bound (a TCP bind completes a tick later, so the real port of
   * `[host, 0]` is known after this); rejects if it cannot listen.
   */
  async ready(): Promise<this> {
    await this.#listening;
    return this;
  }

  /** Where clients connect: the socket path, or `[host, port]` (the real port once `ready()`). */
  get address(): string | [string, number] {
    if ('path' in this.#where) return this.#where.path;
    const a = this.#server.address();
    return [this.#where.host, typeof a === 'object' && a ? a.port : this.#where.port];
  }

  /** The next connection, once it has passed the authentication handshake. */
  async accept(): Promise<Connection> {
    if (this.#closed) throw new ProcessError('accept(): the listener is closed');
    await this.#listening;
    if (this.#closed) throw new ProcessError('accept(): the listener was closed');
    const socket =
      this.#sockets.shift() ??
      (await new Promise<Socket | null>((resolve) => {
        this.#waiters.push(resolve);
        this.#server.ref(); // someone waits: stay alive
      }));
    if (!this.#waiters.length) this.#server.unref();
    if (!socket) throw new ProcessError('accept(): the listener was closed');
    const conn = new Connection(INTERNAL, socket, true, true);
    await serverHandshake(conn, this.#authkey);
    return conn;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#stopListening(new ProcessError('the listener was closed'));
    this.#server.close();
    for (const s of this.#sockets) s.destroy();
    for (const w of this.#waiters.splice(0)) w(null);
    if (this.#tmpdir) rmSync(this.#tmpdir, { recursive: true, force: true });
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
  }
}

/**
 * Python's `multiprocessing.connection.Client`: connects to a Listener. Asynchronous in
 * TypeScript: it resolves once connected and authenticated.
 */
export async function Client(address: Address, options: { family?: Family; authkey?: Buffer | Uint8Array | null } = {}): Promise<Connection> {
  if (options === null || typeof options !== 'object') throw new TypeError('Client(address, options): options must be an object');
  const { family, authkey, ...rest } = options;
  const unknown = Object.keys(rest);
  if (unknown.length) throw new TypeError(`Client: unknown option ${unknown.map((k) => `'${k}'`).join(', ')}; the options are family, authkey`);
  const where = parseAddress(address, family, 'Client');
  const key = checkKey(authkey, 'Client');
  const socket = connect({ ...('path' in where ? { path: where.path } : { host: host(where.host), port: where.port }), allowHalfOpen: true });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', (err) => reject(new ProcessError(`Client: cannot connect to ${JSON.stringify(address)}: ${err.message}`, { cause: err })));
  });
  const conn = new Connection(INTERNAL, socket, true, true);
  await clientHandshake(conn, key);
  return conn;
}

