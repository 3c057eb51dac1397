// Processes vs threads. A worker thread runs inside this process (same pid); a child Process is
// another process (its own pid). Both start with globals of their own (the thread has its own V8
// isolate, the child its own memory), so neither sees the parent's `globalThis.counter`, and
// what they change stays theirs.
import { Worker } from 'node:worker_threads';
import { Pipe, Process, isMainModule, type Connection } from 'multiproc';

const globals = globalThis as { counter?: number };

export async function inChild(conn: Connection): Promise<void> {
  globals.counter = (globals.counter ?? 0) + 1;
  await conn.send({ pid: process.pid, counter: globals.counter });
  conn.close();
}

// The same steps as inChild, as the code of a worker thread.
const THREAD = `
  const { parentPort } = require('node:worker_threads');
  globalThis.counter = (globalThis.counter ?? 0) + 1;
  parentPort.postMessage({ pid: process.pid, counter: globalThis.counter });
`;

if (isMainModule(import.meta)) {
  globals.counter = 100;

  const worker = new Worker(THREAD, { eval: true });
  const fromThread = await new Promise<{ pid: number; counter: number }>((resolve) => worker.once('message', resolve));
  await worker.terminate();

  const [mine, theirs] = Pipe();
  const child = new Process({ target: inChild, args: [theirs] });
  child.start();
  theirs.close();
  const fromChild: { pid: number; counter: number } = await mine.recv();
  mine.close();
  await child.join();

  console.log(`worker thread: same pid as the parent: ${fromThread.pid === process.pid}, its counter: ${fromThread.counter}`);
  console.log(`child process: same pid as the parent: ${fromChild.pid === process.pid}, its counter: ${fromChild.counter}`);
  console.log(`parent: its counter is still ${globals.counter}`);
}
