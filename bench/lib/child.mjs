/**
 * mp_bench.py's handshake: start `target` with one end of a fresh Pipe in its args (`argsFor`
 * places it) and wait for the child's 'ready'. `done()` joins the child and closes both ends.
 */
export async function startWithPipe(mp, target, argsFor) {
  const [conn, childEnd] = mp.Pipe();
  const p = new mp.Process({ target, args: argsFor(childEnd) });
  p.start();
  await conn.recv(); // 'ready'
  return {
    conn,
    p,
    async done() {
      await p.join();
      conn.close();
      childEnd.close();
    },
  };
}
