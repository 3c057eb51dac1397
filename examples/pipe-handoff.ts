// Connecting two processes that are already running: the parent makes a Pipe and sends one end
// to each through their control connections. The ends are lent (the parent's copies close), and
// from then on the workers talk straight through the kernel, not through the parent.
import { Pipe, Process, currentProcess, isMainModule, type Connection } from 'multiproc';

export async function worker(control: Connection): Promise<void> {
  const { peer, role } = (await control.recv()) as { peer: Connection; role: 'ask' | 'answer' };
  if (role === 'ask') {
    await peer.send('what is 6 × 7?');
    await control.send(`${currentProcess().name} was told ${await peer.recv()}`);
  } else {
    await peer.recv();
    await peer.send(42);
  }
  peer.close();
  control.close();
}

if (isMainModule(import.meta)) {
  const [toA, aControl] = Pipe();
  const [toB, bControl] = Pipe();
  const a = new Process({ name: 'A', target: worker, args: [aControl] });
  const b = new Process({ name: 'B', target: worker, args: [bControl] });
  a.start();
  b.start();
  aControl.close();
  bControl.close();

  // Both are running now. Connect them.
  const [endA, endB] = Pipe();
  await toA.send({ peer: endA, role: 'ask' });
  await toB.send({ peer: endB, role: 'answer' });
  console.log(`the parent's ends are closed: ${endA.closed && endB.closed}`);
  console.log(await toA.recv());
  await a.join();
  await b.join();
  console.log(`exit codes ${a.exitCode} ${b.exitCode}`);
  toA.close();
  toB.close();
}
