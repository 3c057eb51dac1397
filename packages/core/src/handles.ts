import type { Socket } from 'node:net';
import { holdChannel } from './route';

/**
 * Sockets a parent sends over the IPC channel after the child started (an end of a Pipe that was
 * still being created at `start()`). The child keeps one listener for them; whoever waits for a
 * handle holds the channel so the process stays alive meanwhile.
 */
export interface HandleMessage {
  multiproc: 'handle';
  id: number;
}

const arrived = new Map<number, Socket>();
const waiting = new Map<number, (socket: Socket) => void>();
let listening = false;

/**
 * Installed before the start-up message is read, so a handle right behind it is not missed. The
 * bootstrap then unrefs the channel explicitly, which outweighs this listener's ref.
 */
export function listenForHandles(): void {
  if (listening || typeof process.send !== 'function') return;
  listening = true;
  process.on('message', (m: any, received: Socket | undefined) => {
    if (m?.multiproc !== 'handle' || !received) return;
    const handle = unread(received);
    const deliver = waiting.get(m.id);
    if (deliver) {
      waiting.delete(m.id);
      deliver(handle);
    } else arrived.set(m.id, handle);
  });
}

/**
 * Node starts reading a socket it receives at once. Its handle goes into a fresh socket that
 * reads nothing until its owner wants it (as a socket from a stdio slot): the owner may pass it
 * on unread.
 */
function unread(received: Socket): Socket {
  const raw = (received as any)._handle;
  if (!raw) return received;
  if (raw.reading) raw.readStop();
  raw.reading = false;
  (received as any)._handle = null;
  const { Socket: NetSocket } = require('node:net') as typeof import('node:net');
  return new NetSocket({ handle: raw, readable: true, writable: true, allowHalfOpen: true, manualStart: true } as object);
}

export function receiveHandle(id: number): Promise<Socket> {
  const socket = arrived.get(id);
  if (socket) {
    arrived.delete(id);
    return Promise.resolve(socket);
  }
  const release = holdChannel(process.channel);
  return new Promise((resolve) =>
    waiting.set(id, (s) => {
      release();
      resolve(s);
    }),
  );
}
