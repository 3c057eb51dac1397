import { mkdtempSync, rmSync } from 'node:fs';
import type * as Net from 'node:net';
import type { NetConnectOpts, Server, Socket } from 'node:net';
import { join } from 'node:path';
import { logDebug } from '@multiproc/core/internal';
import { Connection, INTERNAL } from './connection';

/**
 * Node has no socketpair(): a Pipe is one connection to a private Unix socket this process
 * listens on (in a 0700 directory of its own). connect() gives one end at once; the accepted end
 * follows a tick later, which every operation of a Connection (all asynchronous) waits for. The
 * socket lives only while a Pipe waits for its accept, so a process that dies without running its
 * exit handlers (SIGKILL) seldom leaves its directory behind.
 */
interface PairServer {
  server: Server;
  dir: string;
  path: string;
  /** Accepts arrive in the order of our connects: the n-th accept is the n-th Pipe's other end. */
  waiting: Waiter[];
}

interface Waiter {
  resolve: (socket: Socket) => void;
  reject: (err: Error) => void;
}

let pairs: PairServer | null = null;
let cleanupAtExit = false;
/** Pipes made here: with our pid, the key both ends give their messages in a trace. */
let made = 0;
// node:net (with node:stream) costs ~2 ms to load: loaded by the first Pipe, not with the package.
let net: typeof Net | undefined;
const loadNet = (): typeof Net => (net ??= require('node:net') as typeof Net);

function pairServer(): PairServer {
  if (pairs) return pairs;
  const dir = mkdtempSync(join((require('node:os') as typeof import('node:os')).tmpdir(), 'multiproc-'));
  const path = join(dir, 'pipes.sock');
  const waiting: PairServer['waiting'] = [];
  const server = loadNet().createServer({ allowHalfOpen: true, pauseOnConnect: true }, (socket) => {
    waiting.shift()?.resolve(socket);
    if (waiting.length === 0) retire(pair);
  });
  // An accept error (out of file descriptors) must not crash the process; the Pipe's connect
  // fails too, and its Connection reports that.
  server.on('error', () => {});
  server.listen({ path, backlog: 4096 });
  if (!cleanupAtExit) {
    cleanupAtExit = true;
    process.once('exit', () => pairs && rmSync(pairs.dir, { recursive: true, force: true }));
  }
  const pair: PairServer = { server, dir, path, waiting };
  return (pairs = pair);
}

/** Every Pipe made with it has both ends: the socket and its directory go. */
function retire(pair: PairServer): void {
  if (pairs === pair) pairs = null;
  pair.server.close();
  rmSync(pair.dir, { recursive: true, force: true });
}

/**
 * Python's `multiprocessing.Pipe(duplex)`: two connected Connections. With `duplex = false` the
 * first only receives and the second only sends. Either end may be passed to a child process.
 */
export function Pipe(duplex = true): [Connection, Connection] {
  if (typeof duplex !== 'boolean') throw new TypeError(`Pipe(duplex): duplex must be true or false, got ${typeof duplex}`);
  const pair = pairServer();
  const { path, waiting } = pair;
  let waiter!: Waiter;
  const accepted = new Promise<Socket>((resolve, reject) => (waiter = { resolve, reject }));
  // Until its other end is accepted the process stays alive (the server is ref'd while it
  // listens): a receive on it must see the messages (or the EOF) of a peer that was closed at once.
  waiting.push(waiter);
  const connecting = (onread: object) => {
    const socket = loadNet().connect({ path, allowHalfOpen: true, onread } as NetConnectOpts);
    // A connect that failed (no file descriptors left) is accepted never: its end fails too.
    let connected = false;
    socket.once('connect', () => (connected = true));
    socket.once('error', (err) => {
      if (connected) return;
      const at = waiting.indexOf(waiter);
      if (at < 0) return;
      waiting.splice(at, 1);
      if (waiting.length === 0) retire(pair);
      waiter.reject(err);
    });
    return socket;
  };
  const key = `${process.pid}.${++made}`;
  logDebug('connection created (pipe %s, %s)', key, duplex ? 'duplex' : 'one-way');
  return [
    new Connection(INTERNAL, accepted, true, duplex, undefined, { key, side: 0, sent: 0, received: 0 }),
    new Connection(INTERNAL, connecting, duplex, true, undefined, { key, side: 1, sent: 0, received: 0 }),
  ];
}
