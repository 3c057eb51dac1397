import { abortError, checkSignal, describeValue, refuseUnknownOptions } from '@multiproc/core/internal';
import { ProcessError } from '@multiproc/errors';
import { mkdtempSync, rmSync } from 'node:fs';
import type * as Net from 'node:net';
import type { Server } from 'node:net';
import { join } from 'node:path';
import { clientHandshake, greet, serverHandshake } from './auth';
import { Connection, INTERNAL } from './connection';

// node:net costs ~2 ms to load: loaded by the first Listener or Client, not with the package.
const net = (): typeof Net => require('node:net') as typeof Net;

export type Family = 'AF_UNIX' | 'AF_INET' | 'AF_INET6';
/** A Unix socket path, `'host:port'`, or `[host, port]` (Python's `('localhost', 6000)`). */
export type Address = string | [host: string, port: number];

export interface ListenerOptions {
  family?: Family;
  backlog?: number;
  /**
   * When given, both sides prove they hold it (HMAC challenge-response) before any message. An
   * empty Buffer is a key too, as Python's `b''` is; `null` (the default) means no handshake.
   */
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
  if (!(authkey instanceof Uint8Array)) {
    throw new TypeError(`${what}: authkey must be a Buffer (or null for no authentication), got ${describeValue(authkey)}`);
  }
  return Buffer.from(authkey);
}

function acceptSignal(options: unknown): AbortSignal | undefined {
  if (options === undefined) return undefined;
  if (options === null || typeof options !== 'object') {
    throw new TypeError(`accept(options): options must be an object such as { signal }, got ${describeValue(options)}`);
  }
  const { signal, ...rest } = options as { signal?: unknown };
  refuseUnknownOptions(rest, ['signal'], 'accept(options)');
  checkSignal(signal, 'accept(options)');
  return signal;
}

/** A connection that came in: greeted at once, authenticated by the accept() that takes it. */
interface Arrival {
  conn: Connection;
  greeted: Promise<void>;
  /** Started by the first accept() to take it; one aborted meanwhile hands it on unfinished. */
  handshake: Promise<Connection> | null;
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
  #arrivals: Arrival[] = [];
  #waiters: ((a: Arrival | null) => void)[] = [];
  #closed = false;
  #tmpdir: string | null = null;
  #listening: Promise<void>;
  #bound = false;
  #stopListening: (err: Error) => void = () => {};

  constructor(address?: Address | null, options: ListenerOptions = {}) {
    if (options === null || typeof options !== 'object') throw new TypeError('Listener(address, options): options must be an object');
    const { family, backlog = 128, authkey, ...rest } = options;
    refuseUnknownOptions(rest, ['family', 'backlog', 'authkey'], 'Listener');
    if (!Number.isInteger(backlog) || backlog < 1) throw new TypeError(`Listener: backlog must be a positive integer, got ${describeValue(backlog)}`);
    this.#authkey = checkKey(authkey, 'Listener');
    if (address === undefined || address === null) {
      if (family === 'AF_INET' || family === 'AF_INET6') this.#where = { host: family === 'AF_INET6' ? '::1' : '127.0.0.1', port: 0 };
      else {
        this.#tmpdir = mkdtempSync(join((require('node:os') as typeof import('node:os')).tmpdir(), 'multiproc-listener-'));
        this.#where = { path: join(this.#tmpdir, 'listener.sock') };
      }
    } else this.#where = parseAddress(address, family, 'Listener');
    this.#server = net().createServer({ allowHalfOpen: true, pauseOnConnect: true }, (socket) => {
      const conn = new Connection(INTERNAL, socket, true, true);
      // Greeted now, not in accept(): a Client without a key waits for nothing else.
      const greeted = greet(conn, this.#authkey);
      greeted.catch(() => {}); // said by the accept() that takes it
      this.#arrive({ conn, greeted, handshake: null });
    });
    this.#server.unref();
    this.#listening = new Promise((resolve, reject) => {
      this.#stopListening = reject;
      this.#server.once('listening', () => {
        this.#bound = true;
        resolve();
      });
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

  /**
   * The next connection, once it has passed the authentication handshake. Aborting `signal`
   * rejects with an AbortError and leaves the Listener as it was: the connection this call would
   * have had (its handshake under way, perhaps) goes to the next accept().
   */
  accept(options?: { signal?: AbortSignal }): Promise<Connection> {
    return this.#accept(acceptSignal(options));
  }

  async #accept(signal: AbortSignal | undefined): Promise<Connection> {
    if (this.#closed) throw new ProcessError('accept(): the listener is closed');
    if (signal?.aborted) throw abortError(signal);
    // Once bound, it takes its place in line within this call: an abort right after it finds it there.
    if (!this.#bound) {
      await this.#listening;
      if (this.#closed) throw new ProcessError('accept(): the listener was closed');
      if (signal?.aborted) throw abortError(signal);
    }
    const arrival = this.#arrivals.shift() ?? (await this.#nextArrival(signal));
    if (!arrival) throw new ProcessError('accept(): the listener was closed');
    const handshake = (arrival.handshake ??= serverHandshake(arrival.conn, this.#authkey, arrival.greeted).then(() => arrival.conn));
    if (!signal) return handshake;
    handshake.catch(() => {}); // handed on, it may never be taken again
    return new Promise((resolve, reject) => {
      // Whichever comes first wins: a connection is never both returned and handed on.
      let settled = false;
      const onAbort = () => {
        if (settled) return;
        settled = true;
        this.#arrive(arrival, true);
        reject(abortError(signal));
      };
      if (signal.aborted) return onAbort(); // while the connection was handed to us
      signal.addEventListener('abort', onAbort, { once: true });
      const finish = (settle: () => void) => {
        if (settled) return;
        settled = true;
        signal.removeEventListener('abort', onAbort);
        settle();
      };
      handshake.then(
        (conn) => finish(() => resolve(conn)),
        (err) => finish(() => reject(err)),
      );
    });
  }

  /** Waits for the next connection (null: the listener was closed), keeping the process alive meanwhile. */
  #nextArrival(signal: AbortSignal | undefined): Promise<Arrival | null> {
    return new Promise((resolve, reject) => {
      const waiter = (arrival: Arrival | null) => {
        signal?.removeEventListener('abort', onAbort);
        this.#release();
        resolve(arrival);
      };
      const onAbort = () => {
        // Out of the line at once, so the next connection goes to an accept() still waiting.
        this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
        this.#release();
        reject(abortError(signal!));
      };
      this.#waiters.push(waiter);
      this.#server.ref(); // someone waits: stay alive
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  #release(): void {
    if (!this.#waiters.length) this.#server.unref();
  }

  /** To the accept() waiting longest, else into the queue; `first`: one an aborted accept() hands on, next in line. */
  #arrive(arrival: Arrival, first = false): void {
    if (this.#closed) {
      arrival.conn.close();
      return;
    }
    const waiter = this.#waiters.shift();
    if (waiter) waiter(arrival);
    else if (first) this.#arrivals.unshift(arrival);
    else this.#arrivals.push(arrival);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#stopListening(new ProcessError('the listener was closed'));
    this.#server.close();
    for (const a of this.#arrivals.splice(0)) a.conn.close();
    for (const w of this.#waiters.splice(0)) w(null);
    if (this.#tmpdir) rmSync(this.#tmpdir, { recursive: true, force: true });
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
  }
}

/**
 * Python's `multiprocessing.connection.Client`: connects to a Listener. Asynchronous in
 * TypeScript: without an authkey it resolves once connected (the listener greets a connection as
 * it comes, before any accept()); with one, once authenticated, which takes the listener's accept().
 */
export async function Client(address: Address, options: { family?: Family; authkey?: Buffer | Uint8Array | null } = {}): Promise<Connection> {
  if (options === null || typeof options !== 'object') throw new TypeError('Client(address, options): options must be an object');
  const { family, authkey, ...rest } = options;
  refuseUnknownOptions(rest, ['family', 'authkey'], 'Client');
  const where = parseAddress(address, family, 'Client');
  const key = checkKey(authkey, 'Client');
  const socket = net().connect({ ...('path' in where ? { path: where.path } : { host: host(where.host), port: where.port }), allowHalfOpen: true });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', (err) => reject(new ProcessError(`Client: cannot connect to ${JSON.stringify(address)}: ${err.message}`, { cause: err })));
  });
  const conn = new Connection(INTERNAL, socket, true, true);
  await clientHandshake(conn, key);
  return conn;
}

