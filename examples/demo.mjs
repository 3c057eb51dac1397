// `npm run demo`: the library at work, in real processes, in about a second. Each step says which
// piece of Python's multiprocessing it mirrors; docs/teaching.md explains what happens underneath.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Listener, Pipe, Pool, Process, Queue, currentProcess, isMainModule, renderTimeline, startTrace, stopTrace } from 'multiproc';

const N = 200;

// The functions children run are exported: a child imports this module to find them, as
// Python's spawn re-imports __main__. So everything that only the parent does sits behind the
// isMainModule() guard at the bottom.

/** Step 1, in a child: put 1..N into the queue, then null to say "no more". */
export async function produce(q) {
  for (let n = 1; n <= N; n++) await q.put(n);
  await q.put(null);
}

/** Step 2, in a pool worker: an "expensive" square (5 ms of CPU), and which process made it. */
export function square(n) {
  const until = performance.now() + 5;
  while (performance.now() < until);
  return [n * n, process.pid];
}

/** Step 3, in a child: receive the squares over the Pipe, send their sum back. */
export async function sum(conn) {
  const squares = await conn.recv();
  await conn.send({ sum: squares.reduce((a, b) => a + b, 0), pid: process.pid });
  conn.close();
}

/** Step 4, in a child: connect with the authkey it inherited, say a few words, print the replies. */
export async function client(address) {
  const conn = await Client(address, { authkey: currentProcess().authkey });
  for (const word of ['hello', 'from', 'a client']) {
    await conn.send(word);
    console.log(`  client (pid ${process.pid}) sent '${word}', got back '${await conn.recv()}'`);
  }
  conn.close();
}

function heading(n, text) {
  console.log(`\n${n}. ${text}`);
}

async function queueStep() {
  heading(1, 'Queue — multiprocessing.Queue: a producer Process puts 200 numbers, the parent gets them');
  const q = new Queue();
  const producer = new Process({ target: produce, args: [q] });
  producer.start();
  const items = [];
  for (let n = await q.get(); n !== null; n = await q.get()) items.push(n);
  await producer.join();
  const inOrder = items.every((n, i) => n === i + 1);
  console.log(`  got ${items.length} numbers from ${producer.name} (pid ${producer.pid}), in the order put: ${inOrder}`);
  q.close();
  return items;
}

async function poolStep(items) {
  heading(2, 'Pool — multiprocessing.Pool.map: 2 worker processes square the numbers');
  if (!process.stderr.isTTY) console.log('  (the progress bar is drawn on stderr when it is a terminal: run `npm run demo` in one)');
  const pool = new Pool(2);
  try {
    const results = await pool.map(square, items, { chunksize: 5, progress: '  Pool.map' });
    const perWorker = new Map();
    for (const [, pid] of results) perWorker.set(pid, (perWorker.get(pid) ?? 0) + 1);
    for (const [pid, count] of perWorker) console.log(`  worker pid ${pid} squared ${count} numbers`);
    return results.map(([sq]) => sq);
  } finally {
    pool.close();
    await pool.join();
  }
}

async function pipeStep(squares) {
  heading(3, 'Pipe — multiprocessing.Pipe: the squares go to a child over a Pipe, their sum comes back');
  const [mine, theirs] = Pipe();
  const child = new Process({ target: sum, args: [theirs] });
  child.start();
  theirs.close(); // the child has its own copy of that end now
  await mine.send(squares);
  const reply = await mine.recv();
  mine.close();
  await child.join();
  const expected = (N * (N + 1) * (2 * N + 1)) / 6;
  console.log(`  ${child.name} (pid ${reply.pid}) sent back the sum ${reply.sum} (expected n(n+1)(2n+1)/6 = ${expected})`);
}

async function listenerStep() {
  heading(4, 'Listener/Client — multiprocessing.connection: a client proves it knows the authkey, then they talk');
  const listener = new Listener(undefined, { authkey: currentProcess().authkey });
  const child = new Process({ target: client, args: [listener.address] });
  child.start();
  const conn = await listener.accept();
  console.log(`  listener at ${listener.address} accepted a client that knew the key`);
  for await (const word of conn) await conn.send(word.toUpperCase());
  conn.close();
  await child.join();
  listener.close();
  console.log(`  the client hung up; listener closed, its socket file gone: ${!existsSync(listener.address)}`);
}

/**
 * Records everything the steps do, from every process, into a trace file: the one named by
 * MULTIPROC_TRACE (kept, for Perfetto or chrome://tracing), or a temporary one.
 */
function traceAll() {
  if (process.env.MULTIPROC_TRACE) return { file: process.env.MULTIPROC_TRACE, keep: true };
  const dir = mkdtempSync(join(tmpdir(), 'multiproc-demo-'));
  const file = join(dir, 'trace.json');
  startTrace(file);
  return { file, keep: false, dir };
}

/** Step 5: the timeline of everything above, one row per process, from the trace. */
async function timelineStep(trace) {
  heading(5, 'Timeline — beyond Python: every start, exit, message, queue item and pool chunk, from the trace');
  await stopTrace();
  console.log(renderTimeline(trace.file, { width: Math.max(80, Math.min(process.stdout.columns ?? 100, 120)) }));
  if (trace.keep) console.log(`  the trace is in ${trace.file}: open it in https://ui.perfetto.dev or chrome://tracing`);
  else {
    rmSync(trace.dir, { recursive: true, force: true });
    console.log('  to keep the trace for Perfetto or chrome://tracing: MULTIPROC_TRACE=trace.json npm run demo');
  }
}

if (isMainModule(import.meta)) {
  const started = performance.now();
  const trace = traceAll();
  const me = currentProcess();
  console.log(`${me.name} (pid ${me.pid}) runs this behind isMainModule(import.meta), Python's if __name__ == '__main__':`);
  const items = await queueStep();
  const squares = await poolStep(items);
  await pipeStep(squares);
  await listenerStep();
  await timelineStep(trace);
  console.log(`\ndone in ${((performance.now() - started) / 1000).toFixed(1)} s; every child has ended`);
}
