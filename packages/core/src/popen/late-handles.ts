import type { ChildProcess } from 'node:child_process';
import { nativeHandle, sendHandle } from '../node-internals';
import type { HandleMessage } from '../protocol';
import type { LentHandle } from '../reduction';

// The parent's side of the handles that follow a child's start-up message over its IPC channel
// (an end of a Pipe still being made at start(), or any handle under 'forkserver'); the child's
// side is bootstrap/late-handles.ts.

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
