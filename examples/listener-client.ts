// A Listener and a Client (Python's multiprocessing.connection) with an authkey: both prove they
// know the key (HMAC challenge-response) before any message; a wrong key fails on both sides.
import { AuthenticationError, Client, Listener, Process, isMainModule } from 'multiproc';

export async function client(address: string, key: Buffer): Promise<void> {
  const conn = await Client(address, { authkey: key });
  await conn.send({ greeting: 'hello from the client' });
  console.log('client got:', await conn.recv());
  conn.close();
}

if (isMainModule(import.meta)) {
  const key = Buffer.from('secret password');
  const listener = new Listener(undefined, { authkey: key });
  const p = new Process({ target: client, args: [listener.address, key] });
  p.start();
  const conn = await listener.accept();
  console.log('listener got:', await conn.recv());
  await conn.send('welcome');
  conn.close();
  await p.join();

  // The same with the wrong key: refused on both sides.
  const wrong = new Process({ target: client, args: [listener.address, Buffer.from('wrong')] });
  wrong.start();
  try {
    await listener.accept();
  } catch (err) {
    console.log(`listener: ${(err as Error).name} (${err instanceof AuthenticationError})`);
  }
  await wrong.join();
  console.log(`wrong-key client exit ${wrong.exitCode}`);
  listener.close();
}
