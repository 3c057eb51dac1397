import type { Socket } from 'node:net';
import { ProcessError } from '@multiproc/errors';
import type { NativeHandle } from '../node-internals';
import { holdChannel, socketOver } from '../route';

// The child's side of the sockets its parent sends over the IPC channel after the start-up
// message (an end of a Pipe that was still being created at start(), or any under 'forkserver';
// the parent's side is popen/late-handles.ts). The child keeps one listener for them; whoever
// waits for a handle holds the channel so the process stays alive meanwhile.

/** A handle that arrived: its socket, or null when the parent's copy had closed before it left. */
const arrived = new Map<number, Socket | null>();
const waiting = new Map<number, (socket: Socket | null) => void>();
let listening = false;

/**
 * Installed before the start-up message is read, so a handle right behind it is not missed. The
 * bootstrap then unrefs the channel explicitly, which outweighs this listener's ref.
 */
export function listenForHandles(): void {
  if (listening || typeof process.send !== 'function') return;
  listening = true;
  process.on('message', (m: any, raw: NativeHandle | undefined) => {
    if (m?.multiproc !== 'handle') return;
    // A native handle (see popen/late-handles.ts): it reads nothing until the Connection that owns it does.
    const socket = raw ? socketOver(raw) : null;
    const deliver = waiting.get(m.id);
    if (deliver) {
      waiting.delete(m.id);
      deliver(socket);
    } else arrived.set(m.id, socket);
  });
}

function received(socket: Socket | null): Socket {
  if (!socket) throw new ProcessError('a Connection passed to this process could not be handed over: its socket in the parent was closed before it left');
  return socket;
}

/** Receives not settled yet: the bootstrap waits for those of the start-up message (see handlesArrived). */
const pending = new Set<Promise<unknown>>();

/**
 * Settles once every handle asked for so far has arrived (or failed): the target then starts
 * with its Connections in hand, so what it sends before it exits is written, not left waiting
 * for a socket that comes after the exit.
 */
export function handlesArrived(): Promise<unknown> {
  return Promise.allSettled([...pending]);
}

export function receiveHandle(id: number): Promise<Socket> {
  const receipt = arrived.has(id) ? take(id) : wait(id);
  pending.add(receipt);
  const done = () => pending.delete(receipt);
  receipt.then(done, done);
  return receipt;
}

function take(id: number): Promise<Socket> {
  const socket = arrived.get(id)!;
  arrived.delete(id);
  return Promise.resolve().then(() => received(socket));
}

function wait(id: number): Promise<Socket> {
  const release = holdChannel(process.channel);
  return new Promise<Socket>((resolve, reject) =>
    waiting.set(id, (s) => {
      release();
      try {
        resolve(received(s));
      } catch (err) {
        reject(err as Error);
      }
    }),
  );
}
