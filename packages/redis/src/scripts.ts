// The Lua scripts (src/lua/, one per file, each with its keys and arguments), as commands of a
// client: ioredis sends EVALSHA and falls back to EVAL once per connection (after a restart too).
import type Redis from 'ioredis';
import { ACK } from './lua/ack';
import { OPEN } from './lua/open';
import { PUSH } from './lua/push';
import { REAP } from './lua/reap';
import { RELEASE } from './lua/release';
import { TAKE } from './lua/take';
import { TASK_DONE } from './lua/task-done';

type Arg = string | number | Buffer;

/** The scripts of a client made by `withScripts` (the server knows each by its SHA1: versions never mix). */
export interface Scripts {
  open(meta: string, items: string, unfinished: string, kind: string, maxsize: string): Promise<number>;
  push(items: string, unfinished: string, signal: string, maxsize: number, joinable: string, ...values: Buffer[]): Promise<number>;
  take(
    items: string, held: string, alive: string, consumers: string, state: string, signal: string,
    handed: number, n: number, lapseMs: number, id: string, first: string, events: string, maxsize: number, seq: number, consumerPrefix: string,
  ): Promise<[number, Buffer[]]>;
  ack(held: string, state: string, handed: number): Promise<number>;
  release(items: string, held: string, alive: string, consumers: string, state: string, signal: string, handed: number, id: string): Promise<number>;
  reap(items: string, consumers: string, signal: string, consumerPrefix: string): Promise<number>;
  taskDone(unfinished: string, n: number, events: string): Promise<number>;
}

const SCRIPTS: [keyof Scripts, number, string, boolean][] = [
  ['open', 3, OPEN, false],
  ['push', 3, PUSH, false],
  ['take', 6, TAKE, true],
  ['ack', 2, ACK, false],
  ['release', 6, RELEASE, false],
  ['reap', 3, REAP, false],
  ['taskDone', 1, TASK_DONE, false],
];

const tag = 'multiproc_';

/** `client`'s scripts; `take` answers with Buffers (items are bytes). */
export function withScripts(client: Redis): Scripts {
  const scripts = {} as Record<keyof Scripts, (...args: Arg[]) => Promise<unknown>>;
  for (const [name, numberOfKeys, lua, binary] of SCRIPTS) {
    const command = tag + name;
    if (!(command in client)) client.defineCommand(command, { numberOfKeys, lua });
    const call = (client as any)[binary ? `${command}Buffer` : command] as (...args: Arg[]) => Promise<unknown>;
    scripts[name] = (...args) => call.apply(client, args);
  }
  return scripts as unknown as Scripts;
}
