// mp_bench.py's pipe children, for our Pipe (module-reference targets).
export async function ponger(conn) {
  await conn.send('ready');
  for (;;) {
    const x = await conn.recv();
    if (x === null) break;
    await conn.send(x);
  }
  conn.close();
}

export async function smallSender(conn, count) {
  await conn.send('ready');
  await conn.recv(); // 'go'
  for (let i = 0; i < count; i++) conn.send({ i, s: 'hello' });
  await conn.send(null);
  conn.close();
}

export async function bytesSender(conn, count, size) {
  const payload = Buffer.alloc(size, 'x');
  await conn.send('ready');
  await conn.recv(); // 'go'
  for (let i = 0; i < count; i++) await conn.sendBytes(payload);
  conn.close();
}
