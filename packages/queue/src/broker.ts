/**
 * The broker: a worker thread of the process that created a queue, holding that process's queues'
 * items. It keeps running while the creating process's main thread is busy, so a queue between
 * two children flows whatever their parent does. Every participant, the creator's main thread
 * included, talks to it over a Unix socket in a private directory. See docs/queue.md.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { closeSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { workerData } from 'node:worker_threads';
// Not '@multiproc/core': that would load all of core into this thread, for these few functions.
import { socketFd, socketOverHandle, takeHandle } from '@multiproc/core/node-internals';
import { Backlog, type Entry } from './backlog';
import { Fifo } from './fifo';
import {
  copyingOnRead,
  EMPTY,
  FrameReader,
  HEADER,
  frame,
  signedFields,
  handedFile,
  readHanded,
  SEEN_BYTES,
  SIZE_BYTES,
  sizeOffset,
  T,
  u32Frame,
  type QueueDescriptor,
} from './wire';

interface Queue {
  n: number;
  maxsize: number;
  joinable: boolean;
  items: Backlog;
  /** Items sent to consumers that have not said they handed them over yet. */
  inflight: number;
  /** Permits granted to producers and not used yet. */
  granted: number;
  /** Consumers with credit, served round robin. */
  takers: Conn[];
  /** Producers waiting for permits, served in order. */
  putters: Conn[];
  unfinished: number;
  joins: [Conn, number][];
  consumers: Set<Conn>;
  /**
   * Producer → the consumer holding items of it not handed yet (and how many). While one does,
   * no other consumer gets that producer's items: what it holds may come back (recalled, or the
   * consumer closed or died), and must then reach the next consumer before the producer's later
   * items do. So each consumer receives each producer's items in order, whatever happens.
   * `yielding`: another consumer waits for this producer's items, so the holder gets no more of
   * them to read ahead; once it has handed what it holds, the producer is free for the other.
   */
  owners: Map<number, Owner>;
  /** Since when a consumer has waited for items others hold (0: nobody waits so). */
  starving: number;
}

interface Owner {
  c: Conn;
  n: number;
  yielding: boolean;
}

interface Conn {
  /** Unique for the broker's life: the producer its items are put by. */
  id: number;
  /** The participant reads no more (its process is gone): nothing is written to it. */
  deaf: boolean;
  socket: Socket;
  reader: FrameReader;
  queue: Queue | null;
  slot: number;
  credit: number;
  /** Gets waiting in the participant with nothing to take, as it last said: those take items of any producer. */
  urgent: number;
  /** A getNowait found nothing it could take: that counts as waiting, for the recall. */
  tried: boolean;
  /** A Recall was sent; nothing goes to it until it says Returned. */
  recalling: boolean;
  inflight: Fifo<Entry>;
  handedSeen: number;
  /** Its handed count when the broker last checked whether it is handing what it holds (see checkStarving). */
  handedChecked: number;
  /** Since when (a count of such waits) its gets wait for items others hold; 0: they do not. */
  waitedSince: number;
  putsReceived: number;
  permitsWanted: number;
  permitsHeld: number;
  out: Buffer[];
  dirty: boolean;
  /** Its `handed` file, read when it leaves. */
  handedFd: number;
  /** Whether it has asked for items: then it counts as one of the queue's consumers. */
  consumer: boolean;
  /** Whether it may get the next item of a producer now (see mayTake); made once, not per dispatch. */
  may: (from: number) => boolean;
}

const { dir, secret, ready } = workerData as { dir: string; secret: Uint8Array; ready: SharedArrayBuffer };
const flag = new Int32Array(ready);
const queues = new Map<number, Queue>();
const seen = openSync(join(dir, 'seen'), 'w+', 0o600);
const sizes = openSync(join(dir, 'sizes'), 'w+', 0o600);
const freeSlots: number[] = [];
let nextSlot = 0;
let nextId = 0;
/**
 * How long a consumer waits for items another holds before the broker recalls them. Long enough
 * that a holder taking its items quickly hands them itself; short next to a human's patience.
 */
const RECALL_MS = 1;
/** A holder handing its items at a pace that empties it within this many RECALL_MS more is not recalled. */
const DRAIN_CHECKS = 4;
let recallTimer: NodeJS.Timeout | null = null;
/** Items one taker gets in a row before the next taker's turn. */
const TURN = 16;
const touched = new Set<Conn>();
/** Queues whose state changed in this batch. */
const dirty = new Set<Queue>();
const f64 = Buffer.alloc(16);
const ONE = Buffer.from([1]);
const ZERO = Buffer.from([0]);

function verify(d: QueueDescriptor): boolean {
  const want = createHmac('sha256', secret).update(signedFields(d)).digest();
  const got = Buffer.from(String(d.token), 'hex');
  return got.length === want.length && timingSafeEqual(got, want);
}

function queueFor(d: QueueDescriptor): Queue {
  let q = queues.get(d.n);
  if (!q) {
    q = { n: d.n, maxsize: d.maxsize, joinable: d.joinable, items: new Backlog(), inflight: 0, granted: 0, takers: [], putters: [], unfinished: 0, joins: [], consumers: new Set(), owners: new Map(), starving: 0 };
    queues.set(d.n, q);
  }
  return q;
}

function send(c: Conn, f: Buffer): void {
  c.out.push(f);
  touched.add(c);
}

function room(q: Queue): number {
  return q.maxsize - (q.items.length + q.inflight + q.granted);
}

function onFrame(c: Conn, type: number, whole: Buffer): void {
  const q = c.queue;
  const payload = type === T.Item || type === T.Spilled ? EMPTY : whole.subarray(HEADER);
  if (!q) {
    if (type !== T.Hello) throw new Error('the first message must be a greeting');
    const d = JSON.parse(payload.toString()) as QueueDescriptor;
    if (!verify(d)) throw new Error('this queue does not exist here (bad token)');
    c.queue = queueFor(d);
    c.slot = freeSlots.pop() ?? nextSlot++;
    writeFileSync(handedFile(dir, c.slot), EMPTY, { mode: 0o600 });
    c.handedFd = openSync(handedFile(dir, c.slot), 'r');
    writeSync(seen, Buffer.alloc(SEEN_BYTES), 0, SEEN_BYTES, c.slot * SEEN_BYTES);
    send(c, u32Frame(T.Hello, c.slot));
    return;
  }
  // The reader marks `c` touched and its queue dirty once per read, not here per frame.
  switch (type) {
    case T.Item:
    case T.Spilled:
      q.items.push(c.id, whole);
      c.putsReceived++;
      c.dirty = true;
      if (q.joinable) q.unfinished++;
      if (c.permitsHeld > 0) {
        c.permitsHeld--;
        q.granted--;
      }
      break;
    case T.Want:
      if (!c.consumer) joinConsumers(c, q);
      acknowledge(c, q, payload.readDoubleLE(4));
      // Asked before the participant saw our Recall: it asks anew after Returned.
      if (c.recalling) break;
      c.credit += payload.readUInt32LE(0);
      c.urgent = payload.readUInt32LE(12);
      if (c.credit > 0 && !q.takers.includes(c)) q.takers.push(c);
      break;
    case T.Cancel: {
      // Credit not used yet is withdrawn; what was already sent is the participant's to keep.
      const k = Math.min(c.credit, payload.readUInt32LE(0));
      c.credit -= k;
      if (c.credit === 0) q.takers = q.takers.filter((x) => x !== c);
      send(c, u32Frame(T.Cancel, k));
      break;
    }
    case T.Try: {
      if (!c.consumer) joinConsumers(c, q);
      const item = c.recalling ? undefined : q.items.take((from) => mayTake(c, q, from, true));
      if (item) deliver(c, q, item);
      else c.tried = !c.recalling;
      send(c, frame(T.Try, item ? ONE : ZERO));
      break;
    }
    case T.Returned:
      if (!c.recalling) throw new Error('Returned without a Recall');
      acknowledge(c, q, payload.readDoubleLE(0));
      giveBack(c, q);
      c.recalling = false;
      c.credit = c.urgent = 0;
      q.takers = q.takers.filter((x) => x !== c);
      break;
    case T.Permit:
      c.permitsWanted += payload.readUInt32LE(0);
      if (!q.putters.includes(c)) q.putters.push(c);
      break;
    case T.TryPermit:
      if (room(q) > 0) {
        q.granted++;
        c.permitsHeld++;
        send(c, u32Frame(T.Permit, 1));
      } else send(c, frame(T.TryPermit));
      break;
    case T.Release: {
      const back = Math.min(payload.readUInt32LE(0), c.permitsHeld);
      c.permitsHeld -= back;
      q.granted -= back;
      c.permitsWanted = Math.max(0, c.permitsWanted - payload.readUInt32LE(4));
      break;
    }
    case T.TaskDone: {
      const n = payload.readUInt32LE(0);
      const ok = n <= q.unfinished;
      if (ok) q.unfinished -= n;
      send(c, frame(T.TaskDone, Buffer.from([ok ? 1 : 0])));
      if (q.unfinished === 0) settleJoins(q);
      break;
    }
    case T.Join:
      q.joins.push([c, payload.readUInt32LE(0)]);
      if (q.unfinished === 0) settleJoins(q);
      break;
    default:
      throw new Error(`unexpected message type ${type}`);
  }
}

/** The consumer has handed `handed` items to its program in all: those are gone for good. */
function acknowledge(c: Conn, q: Queue, handed: number): void {
  for (; c.handedSeen < handed && c.inflight.length > 0; c.handedSeen++) {
    disown(q, c.inflight.shift()!);
    q.inflight--;
  }
  c.dirty = true;
}

/** Every item sent to `c` and not handed goes back to its place in the queue. */
function giveBack(c: Conn, q: Queue): void {
  const back = c.inflight.drain();
  for (const e of back) disown(q, e);
  q.inflight -= back.length;
  q.items.giveBack(back);
}

function disown(q: Queue, e: Entry): void {
  const o = q.owners.get(e.from)!;
  if (--o.n === 0) q.owners.delete(e.from);
}

/**
 * Whether `c` may get the next item of producer `from` (see Queue.owners). A get that waits may
 * take any producer nobody holds; reading ahead sticks to the producers `c` holds already, so
 * several consumers reading ahead split the producers between them rather than take turns.
 */
function mayTake(c: Conn, q: Queue, from: number, waiting: boolean): boolean {
  const o = q.owners.get(from);
  return o ? o.c === c && (waiting || !o.yielding) : waiting || q.consumers.size <= 1;
}

function deliver(c: Conn, q: Queue, item: Entry): void {
  c.waitedSince = 0;
  c.inflight.push(item);
  q.inflight++;
  const o = q.owners.get(item.from);
  if (o) o.n++;
  else q.owners.set(item.from, { c, n: 1, yielding: false });
  c.tried = false;
  send(c, item.frame);
}

function settleJoins(q: Queue): void {
  for (const [c, id] of q.joins) send(c, u32Frame(T.Join, id));
  q.joins = [];
}

/**
 * Python hands a queue's items out strictly in order, and programs rely on it (a consumer that
 * stops at a sentinel knows the others get everything put before it). So only a queue's single
 * consumer reads ahead; each consumer is told how many there are whenever that changes.
 */
function joinConsumers(c: Conn, q: Queue): void {
  c.consumer = true;
  q.consumers.add(c);
  if (q.consumers.size === 2) tellConsumers(q);
  else if (q.consumers.size > 2) send(c, u32Frame(T.Consumers, q.consumers.size));
}

function tellConsumers(q: Queue): void {
  for (const d of q.consumers) send(d, u32Frame(T.Consumers, q.consumers.size));
}

/** Waits begun so far: a consumer's number in it orders the waiting, oldest first. */
let waits = 0;

/**
 * A consumer whose gets wait while every item here is held by others: those holders stop reading
 * these producers ahead (Owner.yielding), and the producers come free once they have handed what
 * they hold (a holder that hands nothing is recalled: checkStarving). Worked out anew at each
 * dispatch, so it ends as soon as that consumer is fed or gone. Consumers kept waiting so are
 * served first when the producers come free, oldest wait first: turns go round.
 */
function markYielding(q: Queue): void {
  for (const o of q.owners.values()) o.yielding = false;
  if (q.consumers.size < 2) return;
  let waited = false;
  for (const c of q.takers) {
    if (c.urgent > 0 && !c.recalling && q.items.length > 0) {
      const froms = q.items.producers();
      // Items of a producer nobody holds, or it holds itself, it takes: nobody keeps it waiting.
      if (!froms.some((from) => (q.owners.get(from)?.c ?? c) === c)) {
        for (const from of froms) q.owners.get(from)!.yielding = true;
        c.waitedSince ||= ++waits;
      }
    }
    waited ||= c.waitedSince > 0;
  }
  if (waited) q.takers.sort((a, b) => (a.waitedSince || Infinity) - (b.waitedSince || Infinity));
}

function dispatch(q: Queue): void {
  markYielding(q);
  // Round robin, in turns of up to TURN items, to each taker that may take any, while any may.
  for (let progress = true; progress && q.items.length > 0; ) {
    progress = false;
    for (let i = 0; i < q.takers.length && q.items.length > 0; ) {
      const c = q.takers[i];
      for (let n = 0, item; n < TURN && c.credit > 0 && !c.recalling && (item = q.items.take(c.may)); n++) {
        deliver(c, q, item);
        c.credit--;
        progress = true;
      }
      if (c.credit === 0) q.takers.splice(i, 1);
      else i++;
    }
  }
  watchStarving(q);
  if (q.maxsize > 0) {
    while (q.putters.length > 0 && room(q) > 0) {
      const c = q.putters[0];
      const n = Math.min(c.permitsWanted, room(q));
      q.granted += n;
      c.permitsHeld += n;
      c.permitsWanted -= n;
      send(c, u32Frame(T.Permit, n));
      if (c.permitsWanted === 0) q.putters.shift();
    }
  }
  publishSize(q);
}

/** Consumers waiting while others hold items: give the holders RECALL_MS to hand them, then recall. */
function watchStarving(q: Queue): void {
  if (!anyStarving(q)) q.starving = 0;
  else if (q.starving === 0) {
    q.starving = performance.now();
    for (const d of q.consumers) d.handedChecked = d.handedSeen;
    recallTimer ??= setTimeout(checkStarving, RECALL_MS);
  }
}

/** A consumer's gets wait with nothing to take (or a getNowait found nothing). */
function waiting(c: Conn): boolean {
  return !c.recalling && ((c.urgent > 0 && c.credit > 0) || c.tried);
}

/** Whether consumers wait while items exist: others hold them. Runs at every dispatch, so no allocation. */
function anyStarving(q: Queue): boolean {
  // Waiting for nothing (no item anywhere) is not starving.
  if (q.consumers.size < 2 || (q.items.length === 0 && q.inflight === 0)) return false;
  for (const c of q.consumers) if (waiting(c)) return true;
  return false;
}

function checkStarving(): void {
  recallTimer = null;
  const now = performance.now();
  for (const q of queues.values()) {
    if (q.starving === 0) continue;
    if (now - q.starving < RECALL_MS) {
      recallTimer ??= setTimeout(checkStarving, RECALL_MS);
      continue;
    }
    const starving = anyStarving(q) ? [...q.consumers].filter(waiting) : [];
    let draining = false;
    for (const d of q.consumers) {
      // Only for another's wait: what goes to a waiting consumer itself is on its way to its gets.
      if (d.recalling || d.inflight.length === 0 || !starving.some((c) => c !== d)) continue;
      // Its `handed` file may say it has handed them since it last told us.
      acknowledge(d, q, readHanded(d.handedFd, f64));
      if (d.inflight.length === 0) continue;
      // One that hands them at a pace that empties it within a few more checks keeps them.
      const handed = d.handedSeen - d.handedChecked;
      d.handedChecked = d.handedSeen;
      if (handed > 0 && d.inflight.length <= handed * DRAIN_CHECKS) {
        draining = true;
        continue;
      }
      d.recalling = true;
      send(d, frame(T.Recall));
    }
    dirty.add(q);
    if (draining) {
      recallTimer ??= setTimeout(checkStarving, RECALL_MS);
      continue;
    }
    // One recall per wait: a getNowait that found nothing does not keep recalling.
    for (const c of starving) c.tried = false;
    q.starving = 0;
  }
  settle();
}

function publishSize(q: Queue): void {
  f64.writeDoubleLE(q.items.length + q.inflight, 0);
  writeSync(sizes, f64, 0, SIZE_BYTES, sizeOffset(q.n));
}

/** After each batch of input: hand items out, publish sizes, write what each connection is owed. */
function settle(): void {
  // Readers of `sizes` and `seen` retry until the version is even and unchanged around their
  // reads, so qsize() never mixes two states of the broker.
  let publishing = dirty.size > 0;
  for (const c of touched) publishing ||= c.dirty;
  if (publishing) publishVersion();
  for (const q of dirty) dispatch(q);
  dirty.clear();
  for (const c of touched) {
    if (c.dirty && c.queue) {
      f64.writeDoubleLE(c.putsReceived, 0);
      f64.writeDoubleLE(c.handedSeen, 8);
      writeSync(seen, f64, 0, SEEN_BYTES, c.slot * SEEN_BYTES);
      c.dirty = false;
    }
    if (c.out.length > 0 && !c.socket.destroyed && !c.deaf) write(c, c.out);
    c.out = [];
  }
  touched.clear();
  if (publishing) publishVersion();
}

let version = 0;
function publishVersion(): void {
  f64.writeDoubleLE(++version, 0);
  writeSync(sizes, f64, 0, 8, 0);
}

/**
 * When nothing waits in `socket`'s own queue, writes what the kernel takes of `bytes` at once,
 * from this thread (a stream write costs several times the system call). Returns the rest, for
 * the socket to write after it, in order; null when the peer is gone (EPIPE): then the socket is
 * not told (Node would destroy it on a failed write, and drop what the peer sent before it left,
 * unread). Any other error is the socket's to meet and report.
 */
function writeNow(socket: Socket, bytes: Buffer): Buffer | null {
  const fd = socketFd(socket);
  if (fd < 0 || socket.writableLength > 0 || socket.connecting) return bytes;
  try {
    return bytes.subarray(writeSync(fd, bytes));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'EPIPE' || code === 'ECONNRESET' ? null : bytes; // else EAGAIN: the kernel's buffer is full
  }
}

/**
 * Small frames are joined into one write; big ones go as they are (no copy). What the kernel
 * takes at once goes from this thread, the rest through the socket, in order. A participant that
 * is gone (a producer that put and exited at once) is written to no more, and its connection is
 * read to its end: the items it sent before it left are all in the socket.
 */
function write(c: Conn, frames: Buffer[]): void {
  let bytes = 0;
  for (const f of frames) bytes += f.length;
  const parts = frames.length === 1 || frames.length * 4096 > bytes ? [frames.length === 1 ? frames[0] : Buffer.concat(frames)] : frames;
  let i = 0;
  for (; i < parts.length; i++) {
    const rest = writeNow(c.socket, parts[i]);
    if (rest === null) {
      c.deaf = true;
      return;
    }
    if (rest.length > 0) {
      parts[i] = rest;
      break;
    }
  }
  if (i === parts.length) return;
  c.socket.cork();
  for (; i < parts.length; i++) c.socket.write(parts[i]);
  c.socket.uncork();
}

/**
 * A participant left (closed, exited, killed). Its `handed` file says how many of the items sent
 * to it were handed to its program: those are gone; the rest go back to their places in the queue.
 */
function leave(c: Conn): void {
  const q = c.queue;
  touched.delete(c);
  if (!q) return;
  c.queue = null;
  const handed = readHanded(c.handedFd, f64);
  closeSync(c.handedFd);
  if (q.consumers.delete(c) && q.consumers.size === 1) tellConsumers(q);
  acknowledge(c, q, handed);
  giveBack(c, q);
  q.granted -= c.permitsHeld;
  q.takers = q.takers.filter((x) => x !== c);
  q.putters = q.putters.filter((x) => x !== c);
  q.joins = q.joins.filter(([x]) => x !== c);
  freeSlots.push(c.slot);
  dirty.add(q);
  settle();
}

const server = createServer({ allowHalfOpen: true, pauseOnConnect: true }, (accepted) => {
  const c: Conn = {
    id: nextId++,
    deaf: false,
    socket: null!,
    reader: null!,
    queue: null,
    slot: -1,
    credit: 0,
    urgent: 0,
    tried: false,
    recalling: false,
    inflight: new Fifo(),
    handedSeen: 0,
    handedChecked: 0,
    waitedSince: 0,
    putsReceived: 0,
    permitsWanted: 0,
    permitsHeld: 0,
    out: [],
    dirty: false,
    handedFd: -1,
    consumer: false,
    may: (from) => mayTake(c, c.queue!, from, c.urgent > 0),
  };
  c.reader = new FrameReader((type, whole) => onFrame(c, type, whole));
  let refused = false;
  const socket = (c.socket = reading(accepted, (chunk) => {
    if (refused) return false;
    try {
      c.reader.push(chunk);
      if (c.queue) {
        touched.add(c);
        dirty.add(c.queue);
      }
    } catch (err) {
      // Garbage or a forged greeting: say why, drop this participant, keep serving the others.
      refused = true;
      socket.end(frame(T.Error, Buffer.from((err as Error).message)), () => socket.destroy());
      leave(c);
      return false;
    }
    settle();
    return true;
  }));
  socket.on('end', () => socket.end());
  socket.on('error', () => socket.destroy());
  socket.on('close', () => leave(c));
});

/**
 * Our own Socket over an accepted (paused) one's handle, reading with `copyingOnRead` (Node gives
 * an accepted socket no `onread` of its own). `onData` returning false stops reading.
 */
function reading(accepted: Socket, onData: (chunk: Buffer) => boolean): Socket {
  const handle = takeHandle(accepted)!; // just accepted: it has one
  accepted.destroy(); // the old wrapper only: it has no handle any more
  return socketOverHandle(handle, { onread: copyingOnRead(onData) });
}
server.on('error', (err) => {
  Atomics.store(flag, 0, 2);
  Atomics.notify(flag, 0);
  throw err;
});
server.listen(join(dir, 'queue.sock'), () => {
  Atomics.store(flag, 0, 1);
  Atomics.notify(flag, 0);
});
process.on('exit', () => {
  closeSync(seen);
  closeSync(sizes);
});
