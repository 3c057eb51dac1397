// Children of the sync workloads (workloads/sync.mjs).
import '@multiproc/sync';

/** Says 'ready', waits for 'go', then takes and releases `lock` `count` times. */
export async function contender(lock, conn, count) {
  await conn.send('ready');
  await conn.recv();
  for (let i = 0; i < count; i++) {
    lock.acquireSync();
    lock.release();
  }
  await conn.send('done');
}

/** The other side of the hand-off: waits for `ping`, clears it, sets `pong`; `count` times. */
export async function ponger(ping, pong, conn, count) {
  await conn.send('ready');
  for (let i = 0; i < count; i++) {
    ping.waitSync();
    ping.clear();
    pong.set();
  }
}
