// Pipe workloads: pipe_roundtrip_us, pipe_oneway_small_msgs_per_s, pipe_bytes_GBps — ours,
// Python's, and what Node itself can do: built-in fork IPC and a raw length-framed socket.
import { fork, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { deserialize, serialize } from 'node:v8';
import frames from '../children/frames.cjs';
import { startWithPipe } from '../lib/child.mjs';
import { reps } from '../lib/stats.mjs';

const child = (f) => new URL(`../children/${f}`, import.meta.url).pathname;
const pipeTargets = new URL('../children/pipe-targets.mjs', import.meta.url);

/** A raw-socket child: resolves with { sock, next() } once it said 'ready'. */
async function rawChild(mode, count = 0, size = 0) {
  const cp = spawn(process.execPath, [child('raw-socket-child.cjs'), mode, String(count), String(size)], { stdio: ['ignore', 'inherit', 'inherit', 'pipe'] });
  const sock = cp.stdio[3];
  // An array with a read index: shift() on a large array is O(n) per call.
  let queue = [];
  let head = 0;
  let wake = null;
  sock.on(
    'data',
    frames.reader((p) => {
      queue.push(Buffer.from(p));
      wake?.();
    }),
  );
  const next = async () => {
    while (head === queue.length) await new Promise((r) => (wake = r));
    const item = queue[head++];
    if (head === queue.length) {
      queue = [];
      head = 0;
    }
    return item;
  };
  deserialize(await next()); // 'ready'
  return { cp, sock, next };
}

/**
 * The best Node does with a Unix socket: reads go straight into each message's own buffer
 * (`onread`, no chunk list, no concat; headers into a reused 64 KiB buffer), the way a
 * framed reader that knows the length can. Resolves with GB/s.
 */
async function rawBytes(count, size, mode) {
  const path = join(mkdtempSync(join(tmpdir(), 'raw-bytes-')), 's');
  const cp = spawn(process.execPath, [child('raw-bytes-child.cjs'), path, String(count), String(size), mode], { stdio: ['ignore', 'pipe', 'inherit'] });
  await once(cp.stdout, 'data'); // 'ready'
  const scratch = Buffer.allocUnsafe(65536);
  const head = Buffer.alloc(4);
  let headFill = 0;
  let payload = null;
  let fill = 0;
  let total = 0;
  let t0 = 0;
  const took = (msg) => {
    total += msg.length;
    payload = null;
  };
  await new Promise((resolve, reject) => {
    const sock = connect({
      path,
      onread: {
        // A message's remaining bytes are read into it directly.
        buffer: () => (payload && payload.length - fill >= 65536 ? payload.subarray(fill) : scratch),
        callback: (n, buf) => {
          if (payload && buf.buffer === payload.buffer && buf.byteOffset === payload.byteOffset + fill) {
            fill += n;
            if (fill === payload.length) took(payload);
            return;
          }
          for (let off = 0; off < n; ) {
            if (!payload) {
              const k = Math.min(4 - headFill, n - off);
              buf.copy(head, headFill, off, off + k);
              headFill += k;
              off += k;
              if (headFill === 4) {
                payload = Buffer.allocUnsafe(head.readUInt32LE(0));
                fill = headFill = 0;
              }
            } else {
              const k = Math.min(payload.length - fill, n - off);
              buf.copy(payload, fill, off, off + k);
              fill += k;
              off += k;
              if (fill === payload.length) took(payload);
            }
          }
        },
      },
    });
    sock.on('connect', () => {
      t0 = performance.now();
      sock.write('g');
    });
    sock.on('end', resolve);
    sock.on('error', reject);
  });
  const gbps = total / ((performance.now() - t0) / 1000) / 1e9;
  await exited(cp);
  rmSync(dirname(path), { recursive: true, force: true });
  if (total !== count * size) throw new Error(`raw bytes: got ${total} bytes, expected ${count * size}`);
  return gbps;
}

const exited = (cp) => (cp.exitCode !== null ? Promise.resolve() : once(cp, 'exit'));

async function ipcChild(mode, serialization, count = 0) {
  const cp = fork(child('ipc-child.cjs'), [mode, String(count)], { serialization, stdio: 'inherit' });
  await once(cp, 'message');
  return cp;
}

export default (size) => {
  const { PIPE_RT_COUNT, PIPE_RT_REPS, PIPE_SMALL_COUNT, PIPE_SMALL_REPS, PIPE_BYTES_COUNT, PIPE_BYTES_SIZE, PIPE_BYTES_REPS } = size;

  const ipcRoundTrip = (serialization) => () =>
    reps(PIPE_RT_REPS, async () => {
      const cp = await ipcChild('pong', serialization);
      const t0 = performance.now();
      for (let i = 0; i < PIPE_RT_COUNT; i++) {
        cp.send(1);
        await once(cp, 'message');
      }
      const us = ((performance.now() - t0) * 1000) / PIPE_RT_COUNT;
      cp.send(null);
      await exited(cp);
      return us;
    });

  const ipcSmall = (serialization) => () =>
    reps(PIPE_SMALL_REPS, async () => {
      const cp = await ipcChild('small', serialization, PIPE_SMALL_COUNT);
      let n = 0;
      const done = new Promise((resolve) => cp.on('message', () => ++n === PIPE_SMALL_COUNT && resolve()));
      const t0 = performance.now();
      cp.send('go');
      await done;
      const rate = PIPE_SMALL_COUNT / ((performance.now() - t0) / 1000);
      cp.disconnect();
      await exited(cp);
      return rate;
    });

  return [
    {
      metric: 'pipe_roundtrip_us',
      python: 'pipe_roundtrip_us',
      unit: 'µs',
      better: 'lower',
      target: { against: 'python', factor: 0.5 },
      ours: (mp) =>
        needs(mp, 'Pipe') ??
        reps(PIPE_RT_REPS, async () => {
          const { conn: a, done } = await startWithPipe(mp, { module: pipeTargets, export: 'ponger' }, (end) => [end]);
          const t0 = performance.now();
          for (let i = 0; i < PIPE_RT_COUNT; i++) {
            await a.send(1);
            await a.recv();
          }
          const us = ((performance.now() - t0) * 1000) / PIPE_RT_COUNT;
          await a.send(null);
          await done();
          return us;
        }),
      peers: {
        'fork ipc json': ipcRoundTrip('json'),
        'fork ipc advanced': ipcRoundTrip('advanced'),
        'raw socket': () =>
          reps(PIPE_RT_REPS, async () => {
            const { cp, sock, next } = await rawChild('pong');
            const one = frames.frame(serialize(1));
            const t0 = performance.now();
            for (let i = 0; i < PIPE_RT_COUNT; i++) {
              sock.write(one);
              deserialize(await next());
            }
            const us = ((performance.now() - t0) * 1000) / PIPE_RT_COUNT;
            sock.write(frames.frame(serialize(null)));
            await exited(cp);
            return us;
          }),
      },
    },
    {
      metric: 'pipe_oneway_small_msgs_per_s',
      python: 'pipe_oneway_small_msgs_per_s',
      unit: 'msg/s',
      better: 'higher',
      target: { against: 'python', factor: 2 },
      ours: (mp) =>
        needs(mp, 'Pipe') ??
        reps(PIPE_SMALL_REPS, async () => {
          const { conn: a, done } = await startWithPipe(mp, { module: pipeTargets, export: 'smallSender' }, (end) => [end, PIPE_SMALL_COUNT]);
          const t0 = performance.now();
          await a.send('go');
          let x;
          for (let i = 0; i < PIPE_SMALL_COUNT; i++) x = await a.recv();
          const rate = PIPE_SMALL_COUNT / ((performance.now() - t0) / 1000);
          if (x.i !== PIPE_SMALL_COUNT - 1) throw new Error('messages out of order');
          await a.recv(); // the sender's end marker
          await done();
          return rate;
        }),
      peers: {
        'fork ipc json': ipcSmall('json'),
        'fork ipc advanced': ipcSmall('advanced'),
        'raw socket (batched)': () =>
          reps(PIPE_SMALL_REPS, async () => {
            const { cp, sock, next } = await rawChild('small', PIPE_SMALL_COUNT);
            const t0 = performance.now();
            sock.write(frames.frame(serialize('go')));
            for (let i = 0; i < PIPE_SMALL_COUNT; i++) deserialize(await next());
            const rate = PIPE_SMALL_COUNT / ((performance.now() - t0) / 1000);
            await exited(cp);
            return rate;
          }),
      },
    },
    {
      metric: 'pipe_bytes_GBps',
      python: 'pipe_bytes_GBps',
      unit: 'GB/s',
      better: 'higher',
      target: { against: 'raw socket', factor: 0.9 },
      ours: (mp) => needs(mp, 'Pipe') ?? reps(PIPE_BYTES_REPS, () => bytesReceived(mp, PIPE_BYTES_COUNT, PIPE_BYTES_SIZE, null)),
      peers: {
        // Beyond the workload: each message into one buffer the receiver keeps (no allocation, no copy).
        'ours, recvBytesInto': (mp) => {
          const into = Buffer.alloc(PIPE_BYTES_SIZE);
          return needs(mp, 'Pipe') ?? reps(PIPE_BYTES_REPS, () => bytesReceived(mp, PIPE_BYTES_COUNT, PIPE_BYTES_SIZE, into));
        },
        'raw socket': () => reps(PIPE_BYTES_REPS, () => rawBytes(PIPE_BYTES_COUNT, PIPE_BYTES_SIZE, 'each')),
        'raw socket (all queued)': () => reps(PIPE_BYTES_REPS, () => rawBytes(PIPE_BYTES_COUNT, PIPE_BYTES_SIZE, 'queued')),
      },
    },
  ];
};

/**
 * GB/s of `count` messages of `size` bytes from a child, each received with recvBytes(), or with
 * recvBytesInto(into). Each receive is awaited directly, as mp_bench.py's loop calls recv_bytes():
 * big transfers are sensitive to the receiver's pace (an extra promise per message costs ~25 %).
 */
async function bytesReceived(mp, count, size, into) {
  const { conn: a, done } = await startWithPipe(mp, { module: pipeTargets, export: 'bytesSender' }, (end) => [end, count, size]);
  const t0 = performance.now();
  await a.send('go');
  let total = 0;
  for (let i = 0; i < count; i++) total += into ? await a.recvBytesInto(into) : (await a.recvBytes()).length;
  const gbps = total / ((performance.now() - t0) / 1000) / 1e9;
  await done();
  return gbps;
}

/** A rejected promise saying what is missing, or undefined when `mp` has it. */
export function needs(mp, name) {
  return typeof mp[name] === 'function' ? undefined : Promise.reject(new Error(`multiproc has no ${name} yet`));
}
