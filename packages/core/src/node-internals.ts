import type { Socket } from 'node:net';

/**
 * Node's private socket internals that the library relies on, read in one place. Each has a
 * test per Node version (test/node-internals.test.ts) that fails loudly if Node changes it.
 */

/** The socket's file descriptor, or -1 (not connected yet, closed, or not a descriptor). */
export function socketFd(socket: Socket | null | undefined): number {
  const fd: unknown = (socket as any)?._handle?.fd;
  return typeof fd === 'number' ? fd : -1;
}

/**
 * Bytes that libuv holds for the socket and has not written yet: the tail of the write under
 * way (libuv updates it as the kernel takes bytes; Node's own net.js reads it).
 */
export function unwrittenBytes(socket: Socket): number {
  const n: unknown = (socket as any)._handle?.writeQueueSize;
  return typeof n === 'number' ? n : 0;
}
