import type { ChildProcess } from 'node:child_process';
import type { OnReadOpts, Socket } from 'node:net';

/**
 * Node's private socket internals that the library relies on, touched in this one module. Each
 * has a test per Node version (test/node-internals.test.ts) that fails loudly if Node changes it.
 *
 * It imports nothing at run time and is also built alone (`@multiproc/core/node-internals`): the
 * queue's broker thread uses it without loading the rest of core.
 */

/** Node's native socket handle (a libuv `Pipe` wrap): what a Socket keeps as `_handle`. */
export interface NativeHandle {
  readonly fd?: number;
  reading?: boolean;
  onread?: unknown;
  readStop(): number;
  close(): void;
}

/** How a socket made over a handle or a descriptor reads. */
export interface ReadOptions {
  /**
   * Read nothing until the owner reads or resumes (Node's own option for the sockets it makes,
   * not in the typed ones): the bytes stay in the kernel for whoever takes the end next.
   */
  manualStart?: boolean;
  /** Read into the owner's buffer (public for `net.connect()`, not in `Socket`'s typed options). */
  onread?: OnReadOpts;
}

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

/**
 * The socket's native handle, left with the socket (null once closed): sent over an IPC channel,
 * it gives the receiver a descriptor of its own while this process keeps its socket open, which
 * sending the socket would close.
 */
export function nativeHandle(socket: Socket): NativeHandle | null {
  return (socket as any)._handle ?? null;
}

/**
 * Takes the native handle out of a socket without closing it, and stops reading from it: bytes
 * still in the kernel belong to whoever wraps or receives the handle next (Node's own
 * `send(socket)` detaches it the same way). Null when the socket has none or was destroyed. The
 * socket is left without a handle; destroying it then closes nothing.
 */
export function takeHandle(socket: Socket): NativeHandle | null {
  const handle = nativeHandle(socket);
  if (!handle || socket.destroyed) return null;
  if (handle.reading) handle.readStop();
  handle.reading = false;
  // Node points the handle's reads at the socket's stream; nobody reads until it is wrapped anew.
  handle.onread = () => {};
  (socket as any)._handle = null;
  return handle;
}

/**
 * A socket over a native handle (one taken from another socket, or received over an IPC
 * channel): Node's constructor takes a `handle`, as its own servers and child_process use it,
 * though its typed options do not say so.
 */
export function socketOverHandle(handle: NativeHandle, options: ReadOptions = {}): Socket {
  const { Socket: NetSocket } = require('node:net') as typeof import('node:net');
  return new NetSocket({ handle, readable: true, writable: true, allowHalfOpen: true, ...options } as object);
}

/** A socket over an inherited descriptor (a stdio slot), reading as `options` say (`manualStart` is Node's own). */
export function socketOverFd(fd: number, options: ReadOptions = {}): Socket {
  const { Socket: NetSocket } = require('node:net') as typeof import('node:net');
  return new NetSocket({ fd, readable: true, writable: true, allowHalfOpen: true, ...options } as object);
}

/**
 * Sends `message` with a native handle over an IPC channel. Node documents sockets and servers as
 * what `send()` carries; a bare handle travels as its internal 'net.Native' kind and comes out
 * of the receiver's 'message' event as a handle again, which reads nothing until it is wrapped
 * (a received socket starts reading at once). `done` learns whether the message left; the
 * sender's handle stays open (it is the caller's to close).
 */
export function sendHandle(channel: Pick<ChildProcess, 'send'>, message: object, handle: NativeHandle | undefined, done: (err: Error | null) => void): boolean {
  return channel.send(message, handle as any, done);
}

/**
 * Sets or clears O_NONBLOCK on the fd of the libuv handle behind a stdio stream
 * (`_handle.setBlocking()`, what Node itself does to pipes on Windows). That changes the open
 * file description, shared with every process holding the same pipe. False when there is no
 * such handle or method, or it failed.
 */
export function setBlocking(stream: object, blocking: boolean): boolean {
  const handle = (stream as { _handle?: { setBlocking?: (on: boolean) => number } })._handle;
  if (typeof handle?.setBlocking !== 'function') return false;
  return handle.setBlocking(blocking) === 0;
}
