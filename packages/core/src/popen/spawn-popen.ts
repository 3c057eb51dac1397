import type { ChildProcess } from 'node:child_process';
import type { BootstrapMessage, ExitingMessage } from '../protocol';
import { Sentinel, waitable, waitFor } from '../wait';
import type { Popen } from './popen';

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
      this.#code = this.#hung ?? code ?? -((require('node:os') as typeof import('node:os')).constants.signals[signal as NodeJS.Signals] ?? 0);
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
