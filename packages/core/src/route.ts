import { ProcessError } from '@multiproc/errors';
import type { ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';
import { atChildExit } from './finalize';
import { sendHandle, socketOverHandle, takeHandle, type NativeHandle } from './node-internals';
import type { LentHandle, RebuildContext, TransferContext } from './reduction';
import { state } from './state';
import type { KeepAlive } from './wait';

/**
 * Handles lent to processes that are already running (Python's `resource_sharer`), over the
 * process tree. Node passes a socket only over the IPC channel between a parent and its child,
 * so a lent socket stays in the lender under a ticket; the receiver pulls it by ticket along the
 * tree (up to the nearest common ancestor, then down), and the socket comes back the same way.
 * Processes on the way pass it on as a raw handle: they never read from it. Afterwards the two
 * ends talk through the kernel directly.
 *
 *     receiver ── pull ──▶ parent ── pull ──▶ lender
 *     receiver ◀── give (handle) ── parent ◀── give (handle) ── lender
 */

/** Where a lent handle waits: the lender's path (pids from the main process down) and its number there. */
export interface Ticket {
  path: number[];
  id: number;
}

/** 'up' is the parent; a number is the child with that pid. */
type Link = 'up' | number;

type RouteMessage =
  | { multiproc: 'route'; op: 'pull'; owner: number[]; id: number; from: number[]; req: number; bounced?: true }
  | { multiproc: 'route'; op: 'give'; to: number[]; req: number }
  | { multiproc: 'route'; op: 'fail'; to: number[]; req: number; reason: string }
  | { multiproc: 'route'; op: 'adopt'; key: string };

const lent = new Map<string, LentHandle>();
/** Handles of children that exited before their tickets were redeemed. */
const adopted = new Map<string, NativeHandle>();
/** Our own pulls, by request number. */
const pulls = new Map<number, { resolve: (s: Socket) => void; reject: (e: Error) => void }>();
/** Pulls that went out over a link and whose answer must come back over it. */
const outstanding = new Map<string, { link: Link; from: number[]; req: number; release: () => void }>();
const children = new Map<number, ChildProcess>();
let nextId = 0;
let nextReq = 0;

const here = (): number[] => [...state.lineage, process.pid];
const ticketKey = (path: number[], id: number) => `${path.join('.')}#${id}`;
const same = (a: number[], b: number[]) => a.length === b.length && a.every((x, i) => x === b[i]);

/** The next hop toward `to`, or null when `to` is this process. */
function toward(to: number[]): Link | null {
  const p = here();
  if (same(p, to)) return null;
  if (to.length > p.length && p.every((x, i) => x === to[i])) return to[p.length];
  return 'up';
}

// ---- keeping processes alive while a hand-off is under way

const refs = new WeakMap<object, number>();

/**
 * Node's `channel.ref()`/`unref()` are not counted: everyone who needs an IPC channel to keep its
 * process alive (a pull under way, a wait on the parent) shares one count here.
 */
export function holdChannel(channel: KeepAlive | null | undefined): () => void {
  if (!channel) return () => {};
  const n = refs.get(channel) ?? 0;
  refs.set(channel, n + 1);
  if (n === 0) channel.ref();
  let held = true;
  return () => {
    if (!held) return;
    held = false;
    const m = refs.get(channel)! - 1;
    refs.set(channel, m);
    if (m === 0) channel.unref();
  };
}

/** The same count as a KeepAlive (for a Sentinel). */
export function countedChannel(channel: KeepAlive | null | undefined): KeepAlive {
  let release: (() => void) | null = null;
  return {
    ref: () => (release ??= holdChannel(channel)),
    unref: () => {
      release?.();
      release = null;
    },
  };
}

// ---- the links

function channelOf(link: Link): { send: ChildProcess['send']; keep: KeepAlive | null | undefined } | null {
  if (link === 'up') {
    if (!hasParent() || !process.connected) return null;
    return { send: process.send!.bind(process) as ChildProcess['send'], keep: process.channel };
  }
  const cp = children.get(link);
  return cp?.connected ? { send: cp.send.bind(cp), keep: cp.channel } : null;
}

function lost(link: Link): string {
  return link === 'up' ? `its parent process (pid ${process.ppid}) is gone` : `process ${link} ended on the way`;
}

/** Sends a message (and a handle) over a link; `done` learns whether it left. */
function send(link: Link, m: RouteMessage, handle: NativeHandle | undefined, done: (ok: boolean) => void): void {
  const ch = channelOf(link);
  if (!ch) return done(false);
  try {
    sendHandle(ch, m, handle, (err) => done(!err));
  } catch {
    done(false);
  }
}

/** Called by a start-method backend for each child with an IPC channel. */
export function routeChild(cp: ChildProcess): void {
  const pid = cp.pid!;
  children.set(pid, cp);
  cp.on('message', (m: any, handle: NativeHandle | undefined) => {
    if (m?.multiproc === 'route') dispatch(m, handle, pid);
  });
  cp.once('disconnect', () => {
    children.delete(pid);
    linkLost(pid);
  });
}

let listening = false;
/** Only a child we started has a parent on the route (a test runner's IPC channel is not one). */
const hasParent = () => listening;

/** Called by a child's bootstrap before its start-up message: route messages from the parent. */
export function routeParent(): void {
  if (listening || typeof process.send !== 'function') return;
  listening = true;
  process.on('message', (m: any, handle: NativeHandle | undefined) => {
    if (m?.multiproc === 'route') dispatch(m, handle, 'up');
  });
  process.once('disconnect', () => linkLost('up'));
  // A child that ends hands what it still lends to its parent, so a receiver can still pull it.
  atChildExit(handUp);
}

function linkLost(link: Link): void {
  for (const [k, o] of outstanding) if (o.link === link) linkLostFor(k, link);
}

// ---- the messages

function dispatch(m: RouteMessage, handle: NativeHandle | undefined, from: Link): void {
  if (m.op === 'pull') pull(m);
  else if (m.op === 'adopt') {
    if (handle && typeof from === 'number') adopted.set(m.key, handle);
  } else reply(m, handle);
}

function pull(m: Extract<RouteMessage, { op: 'pull' }>): void {
  const key = ticketKey(m.owner, m.id);
  const mine = lent.get(key);
  if (mine) {
    lent.delete(key);
    void give(mine, m);
    return;
  }
  const kept = adopted.get(key);
  if (kept) {
    adopted.delete(key);
    answer(m, kept);
    return;
  }
  if (m.bounced) return refuse(m, 'the process that sent it ended before handing it over');
  const link = toward(m.owner);
  if (link === null) {
    // The lender handed it up as it ended, while this pull was on its way down: its parent has it.
    if (hasParent()) send('up', { ...m, bounced: true }, undefined, () => {});
    else refuse(m, 'it was handed over already');
    return;
  }
  if (link === 'up' && !hasParent()) {
    return refuse(m, 'the process that sent it is not in this process tree (Connections travel between a main process and its descendants)');
  }
  const ch = channelOf(link);
  if (!ch) return refuse(m, link === 'up' ? lost('up') : `process ${link}, which sent it or leads to it, has ended`);
  const k = ticketKey(m.from, m.req);
  outstanding.set(k, { link, from: m.from, req: m.req, release: holdChannel(ch.keep) });
  send(link, m, undefined, (ok) => {
    if (!ok && outstanding.has(k)) linkLostFor(k, link);
  });
}

function linkLostFor(k: string, link: Link): void {
  const o = outstanding.get(k)!;
  outstanding.delete(k);
  o.release();
  reply({ multiproc: 'route', op: 'fail', to: o.from, req: o.req, reason: lost(link) }, undefined);
}

function refuse(m: { from: number[]; req: number }, reason: string): void {
  reply({ multiproc: 'route', op: 'fail', to: m.from, req: m.req, reason }, undefined);
}

/** The lender's side: the socket leaves once everything written to it has. */
async function give(l: LentHandle, m: { from: number[]; req: number }): Promise<void> {
  let raw: NativeHandle | null = null;
  try {
    raw = takeHandle(await l.socket);
  } catch {
    // the socket was never made; said below
  }
  if (!raw) {
    l.sent();
    return refuse(m, 'its socket in the sending process was closed or failed before it could be handed over');
  }
  answer(m, raw, () => l.sent());
}

function answer(m: { from: number[]; req: number }, raw: NativeHandle, left?: () => void): void {
  reply({ multiproc: 'route', op: 'give', to: m.from, req: m.req }, raw, left);
}

/** A give or a fail, on its way back to the process that pulled. */
function reply(m: Extract<RouteMessage, { op: 'give' | 'fail' }>, raw: NativeHandle | undefined, left?: () => void): void {
  const o = outstanding.get(ticketKey(m.to, m.req));
  if (o) {
    outstanding.delete(ticketKey(m.to, m.req));
    o.release();
  }
  const link = toward(m.to);
  if (link === null) {
    deliver(m, raw);
    left?.();
    return;
  }
  // Our descriptor closes once the handle has left (or could not: then the receiver is gone).
  send(link, m, raw, () => {
    raw?.close();
    left?.();
  });
}

function deliver(m: Extract<RouteMessage, { op: 'give' | 'fail' }>, raw: NativeHandle | undefined): void {
  const p = pulls.get(m.req);
  pulls.delete(m.req);
  if (m.op === 'fail' || !raw) {
    raw?.close();
    p?.reject(new ProcessError(`a Connection received from another process could not be handed over: ${m.op === 'fail' ? m.reason : 'no handle came'}`));
    return;
  }
  if (!p) return raw.close();
  p.resolve(socketOver(raw));
}

/** A socket over a native handle that came over a channel; it reads nothing until its owner wants it. */
export function socketOver(raw: NativeHandle): Socket {
  return socketOverHandle(raw, { manualStart: true });
}

/** A child's exit: what it still lends, or holds for its own children, goes to its parent. */
async function handUp(): Promise<void> {
  const moves: Promise<void>[] = [];
  const up = (key: string, raw: NativeHandle | null, done?: () => void) =>
    new Promise<void>((resolve) => {
      if (!raw) return resolve(done?.());
      send('up', { multiproc: 'route', op: 'adopt', key }, raw, () => {
        raw.close();
        done?.();
        resolve();
      });
    });
  for (const [key, l] of lent) {
    lent.delete(key);
    moves.push(l.socket.then(takeHandle, () => null).then((raw) => up(key, raw, () => l.sent())));
  }
  for (const [key, raw] of adopted) {
    adopted.delete(key);
    moves.push(up(key, raw));
  }
  await Promise.all(moves);
}

// ---- the transfer context for messages

/**
 * How values travel in messages between running processes (`send()`, `put()`): a handle is lent
 * under a ticket and pulled by the process that rebuilds the value.
 */
export const messageContext: TransferContext & RebuildContext = {
  kind: 'message',
  duplicateForChild(handle) {
    const l: LentHandle = 'sent' in handle ? handle : { socket: Promise.resolve(handle), sent: () => handle.destroy() };
    const id = ++nextId;
    const path = here();
    lent.set(ticketKey(path, id), l);
    return { path, id } satisfies Ticket;
  },
  detachHandle(token) {
    const t = token as Ticket;
    if (!t || !Array.isArray(t.path) || !Number.isInteger(t.id)) {
      throw new ProcessError(`received a handle ticket that is not one (${JSON.stringify(token)}); the message was not made by multiproc`);
    }
    return new Promise<Socket>((resolve, reject) => {
      const req = ++nextReq;
      pulls.set(req, { resolve, reject });
      pull({ multiproc: 'route', op: 'pull', owner: t.path, id: t.id, from: here(), req });
    });
  },
};
