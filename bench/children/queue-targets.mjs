// mp_bench.py's queue children, for our Queue (module-reference targets; Pipe handshakes).
/** Puts `count` items { i }, then `sentinels` nulls (one per consumer it is to stop). */
export async function producer(q, conn, count, sentinels) {
  await conn.send('ready');
  await conn.recv(); // 'go'
  for (let i = 0; i < count; i++) await q.put({ i });
  for (let i = 0; i < sentinels; i++) await q.put(null);
}

export async function largeProducer(q, conn, count, size) {
  const payload = Buffer.alloc(size, 'x');
  await conn.send('ready');
  await conn.recv(); // 'go'
  for (let i = 0; i < count; i++) await q.put(payload);
}

export async function consumer(q, conn) {
  await conn.send('ready');
  let n = 0;
  while ((await q.get()) !== null) n++;
  await conn.send(n);
  conn.close();
}

/** Sends back every item it gets on `inq` through `outq`, until null (the queue round trip). */
export async function ponger(inq, outq, conn) {
  await conn.send('ready');
  for (let x = await inq.get(); x !== null; x = await inq.get()) await outq.put(x);
  conn.close();
}
