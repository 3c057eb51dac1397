import { ProcessError } from '@multiproc/errors';
import type { StdioOptions } from 'node:child_process';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import type { BootstrapMessage } from '../protocol';
import type { LentHandle, TransferContext } from '../reduction';
import { routeChild } from '../route';
import { childExecArgv } from './exec-argv';
import { sendHandles } from './late-handles';
import type { LaunchSpec, Popen, StartMethodBackend } from './popen';
import { SpawnPopen } from './spawn-popen';

/** The child runs this file (built next to index.js). */
export const CHILD_ENTRY = join(__dirname, 'child.js');

/** Node's arguments for a child, as they are now (a spare compares them with its own). */
export function childArgs(): string[] {
  return [...childExecArgv(), CHILD_ENTRY];
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
