import { ProcessError } from '@multiproc/errors';
import type { ChildProcess, StdioOptions } from 'node:child_process';
import type { Socket } from 'node:net';
import { constants } from 'node:os';
import { join } from 'node:path';
import type { HandleMessage } from '../handles';
import { nativeHandle, sendHandle } from '../node-internals';
import type { BootstrapMessage, ExitingMessage } from '../protocol';
import type { LentHandle, TransferContext } from '../reduction';
import { routeChild } from '../route';
import { waitFor } from '../timeout';
import { Sentinel, waitable } from '../wait';
import type { LaunchSpec, Popen, StartMethodBackend } from './popen';

/** The child runs this file (built next to index.js). */
const CHILD_ENTRY = join(__dirname, 'child.js');

/** Node's arguments for a child, as they are now (a spare compares them with its own). */
export function childArgs(): string[] {
  return [...childExecArgv(), CHILD_ENTRY];
}

/**
 * The parent's execArgv, minus what would make the child do something else than run our entry
 * (`-e`, `-p`, `--input-type`) or fight over a resource (`--inspect` ports, `--watch`). Loader
 * flags (`--import tsx`) stay, so a TypeScript program's children import its `.ts` modules.
 */
export function childExecArgv(execArgv: readonly string[] = process.execArgv): string[] {
  const out: string[] = [];
  for (let i = 0; i < execArgv.length; i++) {
    const a = execArgv[i];
    const flag = a.split('=')[0];
    if (['-e', '--eval', '-p', '--print'].includes(a)) {
      i++; // and its code
      continue;
    }
    if (/^--(inspect|debug)(-brk|-port|-wait)?$/.test(flag) || flag === '--input-type' || flag === '-i' || flag === '--interactive') continue;
    if (flag.startsWith('--watch') || flag === '--test' || flag.startsWith('--test-')) continue;
    out.push(a);
  }
  return out;
}

/**
 * 'spawn': a fresh Node process running our bootstrap. fd 3 is Node's IPC channel: it carries the
 * start-up message, later handles, and tells the child when the parent is gone. Handles in the
 * child's arguments ride in further stdio slots (fd 4, 5, …).
 */
export const spawnBackend: StartMethodBackend = {
  name: 'spawn',
  launch(spec: LaunchSpec): Popen {
    const stdio: (string | Socket)[] = ['ignore', 'inherit', 'inherit', 'ipc'];
    const later: LentHandle[] = [];
    const ctx: TransferContext = {
      kind: 'spawn',
      // A socket that exists rides in a stdio slot; one still being made follows over the channel.
      duplicateForChild(handle) {
        if (!('sent' in handle)) {
          stdio.push(handle);
          return { fd: stdio.length - 1 };
        }
        later.push(handle);
        return { handle: later.length - 1 };
      },
    };
    const object = spec.dumpObject(ctx); // throws before anything is spawned
    // Loaded on first use: a child that starts no processes of its own never pays for it.
    const { spawn } = require('node:child_process') as typeof import('node:child_process');
    const cp = spawn(process.execPath, childArgs(), {
      stdio: stdio as StdioOptions,
      serialization: 'advanced',
    });
    if (cp.pid === undefined) {
      cp.on('error', () => {});
      throw new ProcessError(`could not start a child process (${process.execPath} ${CHILD_ENTRY})`);
    }
    routeChild(cp);
    const message: BootstrapMessage = { multiproc: 'bootstrap', prep: spec.prep, object };
    const popen = new SpawnPopen(cp, message, spec.daemon);
    sendHandles(cp, later);
    return popen;
  },
};

/**
 * Sends handles over the channel, after the start-up message; each is released once it left.
 * The native handle goes, not the socket: Node makes a received socket read at once, and until
 * the child takes it (a message waits while the child has no 'message' listener) those bytes
 * would be read into a socket nobody owns. A native handle reads nothing; this process keeps
 * its own socket (Node closes a sent socket, not a sent handle).
 */
export function sendHandles(cp: ChildProcess, handles: LentHandle[]): void {
  handles.forEach((lent, id) => {
    lent.socket.then(
      (s) => {
        if (!cp.connected) return lent.sent();
        const raw = nativeHandle(s) ?? undefined; // none if it closed meanwhile: the child is told
        sendHandle(cp, { multiproc: 'handle', id } satisfies HandleMessage, raw, () => lent.sent());
      },
      () => lent.sent(),
    );
  });
}

/**
 * How long a child may take to end after it said it is exiting. Node's own exit can hang for good
 * (nodejs/node#54918: a V8 thread waits for a collection the main thread no longer runs); the
 * child's code was final, so the parent kills it and keeps that code. A Python child ends with
 * os._exit(): no exit handlers run, so nothing of the user's is cut short that Python would run.
 */
const EXIT_GRACE_MS = 3000;

/** A started child with an IPC channel, whichever way it was booted. */
export class SpawnPopen implements Popen {
  readonly pid: number;
  readonly sentinel: Sentinel;
  #cp: ChildProcess;
  #code: number | null = null;
  /** The code the child said it exits with, once the parent had to end it for hanging in Node's exit. */
  #hung: number | null = null;

  constructor(cp: ChildProcess, message: BootstrapMessage, daemon: boolean) {
    this.#cp = cp;
    this.pid = cp.pid!;
    // A daemonic child is unref'd: someone waiting on it must keep this process alive.
    this.sentinel = new Sentinel(`of process ${this.pid}`, daemon ? cp : undefined);
    let grace: NodeJS.Timeout | undefined;
    cp.on('message', (m: ExitingMessage) => {
      if (m?.multiproc !== 'exiting' || grace) return;
      grace = setTimeout(() => this.#endHung(m.code), EXIT_GRACE_MS).unref();
    });
    cp.on('exit', (code, signal) => {
      clearTimeout(grace);
      this.#code = this.#hung ?? code ?? -(constants.signals[signal as NodeJS.Signals] ?? 0);
      this.sentinel.set();
    });
    // A child that dies before reading its start-up message makes the write fail; its exit code says why.
    cp.on('error', () => {});
    cp.send(message, () => {});
    cp.channel?.unref();
    // A daemonic child never keeps its parent alive; a non-daemonic one does until it ends.
    if (daemon) cp.unref();
    else cp.ref(); // a spare was unref'd while idle
  }

  #endHung(code: number): void {
    if (this.#code !== null || !Number.isInteger(code)) return;
    process.emitWarning(`process ${this.pid} was still there ${EXIT_GRACE_MS / 1000} s after it exited with code ${code} (Node can hang in its own exit: nodejs/node#54918); killed it, its exitCode stays ${code}`, 'MultiprocWarning');
    this.#hung = code;
    this.#cp.kill('SIGKILL');
  }

  poll(): number | null {
    return this.#code;
  }

  async wait(ms: number | null, signal?: AbortSignal): Promise<number | null> {
    return (await waitFor(this.sentinel[waitable](), ms, signal)) ? this.#code : null;
  }

  terminate(): void {
    if (this.#code === null) this.#cp.kill('SIGTERM');
  }

  kill(): void {
    if (this.#code === null) this.#cp.kill('SIGKILL');
  }

  close(): void {
    if (this.#cp.connected) this.#cp.disconnect();
  }
}
