// What a RemotePool and its workers say to each other through Redis: the keys, the frames, the
// Lua scripts. The two sides share only this file (as the local pool's sides share protocol.ts).
//
// A task frame is `header (32 ASCII bytes: caller id, chunk id, attempt) | MAC | payload`, the
// header in the clear so that the scripts can tell whose it is; a result frame is
// `'R' | MAC | payload`, the results a worker finished for one caller since its last batch; a lost notice, written by the reaper for a task whose worker stopped
// heartbeating, is `'L' | worker id | '\n' | the task frame` (the task's own MAC vouches for it).
import type { Packed } from '@multiproc/pool/internal';
import type Redis from 'ioredis';
import type { RedisLocation } from './location';
import { mac, MAC_BYTES, verify } from './sign';
import { decodeItem as decode, encodeItem as encode } from './transfer';

export const CALLER_ID_BYTES = 16;
export const HEADER_BYTES = 32;

export interface PoolKeys {
  /** Everything of this pool starts with it: `${prefix}pool:<name>:`. */
  base: string;
  /** The list of task frames not claimed yet. */
  tasks: string;
  /** Hash: worker id → JSON { host, pid, processes, modules }. */
  workers: string;
  /** Set of the ids of the callers that are open (results for others are not kept). */
  callers: string;
  /** Hash: header → task frame, what the worker claimed and has not answered. */
  claimed(worker: string): string;
  /** List: where BLMOVE puts the one frame it takes, until the worker's next claim files it. */
  claiming(worker: string): string;
  alive(worker: string): string;
  replies(caller: string): string;
}

export function poolKeys(location: RedisLocation, name: string): PoolKeys {
  const base = `${location.prefix}pool:${name}:`;
  return {
    base,
    tasks: `${base}tasks`,
    workers: `${base}workers`,
    callers: `${base}callers`,
    claimed: (w) => `${base}claimed:${w}`,
    claiming: (w) => `${base}claiming:${w}`,
    alive: (w) => `${base}alive:${w}`,
    replies: (c) => `${base}replies:${c}`,
  };
}

/** A task module as the caller has it: workers run it only when theirs has the same hash. */
export interface TaskModule {
  /** The caller's path to it (for messages). */
  path: string;
  export: string;
  /** sha256 of the file's content, hex. */
  hash: string;
}

export type Mode = 'map' | 'star' | 'apply';

export interface TaskPayload {
  chunk: number;
  attempt: number;
  task: TaskModule;
  mode: Mode;
  /** map/star: the items (long runs of numbers packed, as the local pool sends them); apply: the one argument list. */
  items: Packed;
  kwargs: object | undefined;
}

export type ResultPayload =
  /** `value`: the chunk's results (packed when long and all numbers). */
  | { chunk: number; attempt: number; ok: true; value: Packed }
  /** `lost`: the process that ran it died (the caller may retry it). */
  | { chunk: number; attempt: number; ok: false; error: unknown; name: string; lost: boolean };

export function taskHeader(caller: string, chunk: number, attempt: number): string {
  return caller + chunk.toString(16).padStart(12, '0') + attempt.toString(16).padStart(4, '0');
}

export function encodeTask(key: Buffer, caller: string, task: TaskPayload): Buffer {
  const header = Buffer.from(taskHeader(caller, task.chunk, task.attempt), 'latin1');
  const payload = encode(task, 'the task');
  return Buffer.concat([header, mac(key, 'task', header, payload), payload]);
}

/** The task, or null when its MAC does not verify (another key, or forged). */
export function decodeTask(key: Buffer, frame: Buffer): { caller: string; header: string; task: TaskPayload } | null {
  if (frame.length < HEADER_BYTES + MAC_BYTES) return null;
  const header = frame.subarray(0, HEADER_BYTES);
  const payload = frame.subarray(HEADER_BYTES + MAC_BYTES);
  if (!verify(key, 'task', frame.subarray(HEADER_BYTES, HEADER_BYTES + MAC_BYTES), header, payload)) return null;
  const text = header.toString('latin1');
  return { caller: text.slice(0, CALLER_ID_BYTES), header: text, task: decode(payload) as TaskPayload };
}

/** Encodes one result, alone: throws (a TypeError) when it cannot be sent. */
export function encodeResult(result: ResultPayload): Buffer {
  return encode(result, 'the result');
}

/**
 * Results (each from encodeResult, each after its u32 length) in one frame, bound to their
 * caller: sent to another, it does not verify.
 */
export function resultFrame(key: Buffer, caller: string, results: Buffer[]): Buffer {
  const parts: Buffer[] = [];
  for (const r of results) {
    const n = Buffer.allocUnsafe(4);
    n.writeUInt32LE(r.length);
    parts.push(n, r);
  }
  const payload = Buffer.concat(parts);
  return Buffer.concat([Buffer.from('R'), mac(key, 'result', Buffer.from(caller, 'latin1'), payload), payload]);
}

function splitResults(payload: Buffer): ResultPayload[] {
  const out: ResultPayload[] = [];
  for (let at = 0; at < payload.length; ) {
    const n = payload.readUInt32LE(at);
    out.push(decode(payload.subarray(at + 4, at + 4 + n)) as ResultPayload);
    at += 4 + n;
  }
  return out;
}

export type Reply = { kind: 'results'; results: ResultPayload[] } | { kind: 'lost'; worker: string; task: TaskPayload } | { kind: 'forged' };

export function decodeReply(key: Buffer, caller: string, frame: Buffer): Reply {
  if (frame[0] === 0x52 /* R */ && frame.length > 1 + MAC_BYTES) {
    const payload = frame.subarray(1 + MAC_BYTES);
    if (!verify(key, 'result', frame.subarray(1, 1 + MAC_BYTES), Buffer.from(caller, 'latin1'), payload)) return { kind: 'forged' };
    return { kind: 'results', results: splitResults(payload) };
  }
  if (frame[0] === 0x4c /* L */) {
    const nl = frame.indexOf(0x0a);
    const task = nl > 0 ? decodeTask(key, frame.subarray(nl + 1)) : null;
    if (!task || task.caller !== caller) return { kind: 'forged' };
    return { kind: 'lost', worker: frame.subarray(1, nl).toString(), task: task.task };
  }
  return { kind: 'forged' };
}

// Scripts (one server, not Redis Cluster: the reaper and the worker's acknowledgement reach keys
// they compute, named from the pool's base key). What a worker claimed is in a hash by header
// (acknowledged by header, in O(1)), and, for the moment between a blocking BLMOVE and its next
// claim, in its `claiming` list; a reaper looks at both.

/**
 * Files the frame a BLMOVE left in the claiming list under its header, and claims up to ARGV[1]
 * more (returned). KEYS = tasks, claimed, claiming.
 */
const CLAIM = `
for _, task in ipairs(redis.call('LRANGE', KEYS[3], 0, -1)) do
  redis.call('HSET', KEYS[2], string.sub(task, 1, ${HEADER_BYTES}), task)
end
redis.call('DEL', KEYS[3])
if tonumber(ARGV[1]) < 1 then return {} end
local got = redis.call('LPOP', KEYS[1], ARGV[1])
if not got then return {} end
for _, task in ipairs(got) do redis.call('HSET', KEYS[2], string.sub(task, 1, ${HEADER_BYTES}), task) end
return got`;

/**
 * Acknowledges finished tasks (by header) and hands their results to callers still open:
 * KEYS = claimed, callers; ARGV = base, the number n of headers, n headers, then (caller, result frame) pairs.
 */
const FINISH = `
local n = tonumber(ARGV[2])
for i = 3, 2 + n, 1000 do redis.call('HDEL', KEYS[1], unpack(ARGV, i, math.min(i + 999, 2 + n))) end
for i = 3 + n, #ARGV, 2 do
  if redis.call('SISMEMBER', KEYS[2], ARGV[i]) == 1 then redis.call('RPUSH', ARGV[1] .. 'replies:' .. ARGV[i], ARGV[i + 1]) end
end
return 0`;

/** What a worker holds (claimed and claiming), ordered by header: per caller, in chunk order. */
const HELD = `
local function held(base, w)
  local tasks = redis.call('HVALS', base .. 'claimed:' .. w)
  for _, task in ipairs(redis.call('LRANGE', base .. 'claiming:' .. w, 0, -1)) do tasks[#tasks + 1] = task end
  table.sort(tasks, function(a, b) return string.sub(a, 1, ${HEADER_BYTES}) < string.sub(b, 1, ${HEADER_BYTES}) end)
  redis.call('DEL', base .. 'claimed:' .. w, base .. 'claiming:' .. w)
  return tasks
end`;

/**
 * The reaper: each registered worker whose heartbeat key has lapsed is removed, and each task it
 * held becomes a lost notice for its caller. KEYS = workers, callers; ARGV = base.
 */
const REAP = `${HELD}
local lost = 0
for _, w in ipairs(redis.call('HKEYS', KEYS[1])) do
  if redis.call('EXISTS', ARGV[1] .. 'alive:' .. w) == 0 then
    for _, task in ipairs(held(ARGV[1], w)) do
      local caller = string.sub(task, 1, ${CALLER_ID_BYTES})
      if redis.call('SISMEMBER', KEYS[2], caller) == 1 then
        redis.call('RPUSH', ARGV[1] .. 'replies:' .. caller, 'L' .. w .. '\\n' .. task)
        lost = lost + 1
      end
    end
    redis.call('HDEL', KEYS[1], w)
  end
end
return lost`;

/** Takes a caller's unclaimed tasks out of the queue (it terminated). KEYS = tasks; ARGV = caller id. */
const DROP = `
local all = redis.call('LRANGE', KEYS[1], 0, -1)
local kept = {}
for _, task in ipairs(all) do
  if string.sub(task, 1, ${CALLER_ID_BYTES}) ~= ARGV[1] then kept[#kept + 1] = task end
end
if #kept == #all then return 0 end
redis.call('DEL', KEYS[1])
for i = 1, #kept, 1000 do redis.call('RPUSH', KEYS[1], unpack(kept, i, math.min(i + 999, #kept))) end
return #all - #kept`;

/** Puts what a stopping worker held back at the front of the queue. KEYS = tasks; ARGV = base, worker id. */
const GIVE_BACK = `${HELD}
local tasks = held(ARGV[1], ARGV[2])
for i = #tasks, 1, -1 do redis.call('LPUSH', KEYS[1], tasks[i]) end
return #tasks`;

export interface PoolScripts {
  claim(tasks: string, claimed: string, claiming: string, count: number): Promise<Buffer[]>;
  finish(claimed: string, callers: string, base: string, headers: string[], frames: Map<string, Buffer>): Promise<number>;
  reap(workers: string, callers: string, base: string): Promise<number>;
  drop(tasks: string, caller: string): Promise<number>;
  giveBack(tasks: string, base: string, worker: string): Promise<number>;
}

/** The scripts, run on `client` (EVALSHA, falling back to EVAL when the server does not have them yet). */
export function poolScripts(client: Redis): PoolScripts {
  const c = client as any;
  if (!c.mpClaimBuffer) {
    client.defineCommand('mpClaim', { numberOfKeys: 3, lua: CLAIM });
    client.defineCommand('mpFinish', { numberOfKeys: 2, lua: FINISH });
    client.defineCommand('mpReap', { numberOfKeys: 2, lua: REAP });
    client.defineCommand('mpDrop', { numberOfKeys: 1, lua: DROP });
    client.defineCommand('mpGiveBack', { numberOfKeys: 1, lua: GIVE_BACK });
  }
  return {
    claim: (tasks, claimed, claiming, count) => c.mpClaimBuffer(tasks, claimed, claiming, count),
    finish: (claimed, callers, base, headers, frames) => c.mpFinish(claimed, callers, base, headers.length, ...headers, ...[...frames].flat()),
    reap: (workers, callers, base) => c.mpReap(workers, callers, base),
    drop: (tasks, caller) => c.mpDrop(tasks, caller),
    giveBack: (tasks, base, worker) => c.mpGiveBack(tasks, base, worker),
  };
}
