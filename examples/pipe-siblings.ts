// Two sibling processes talking over a Pipe their parent made. Once the parent has closed its
// copies of the ends, the two children hold the only ends of one kernel socket: the bytes go
// straight from one to the other.
import { Pipe, Process, currentProcess, isMainModule, type Connection } from 'multiproc';

export async function producer(conn: Connection, count: number): Promise<void> {
  for (let i = 1; i <= count; i++) await conn.send(i);
  conn.close();
}

export async function consumer(conn: Connection): Promise<void> {
  let sum = 0;
  for await (const n of conn) sum += n as number; // until the producer closes its end
  console.log(`${currentProcess().name} received a sum of ${sum}`);
}

if (isMainModule(import.meta)) {
  const [readEnd, writeEnd] = Pipe(false);
  const c = new Process({ name: 'consumer', target: consumer, args: [readEnd] });
  const p = new Process({ name: 'producer', target: producer, args: [writeEnd, 100] });
  c.start();
  p.start();
  readEnd.close(); // the parent keeps no copy, so the consumer sees EOF when the producer is done
  writeEnd.close();
  await p.join();
  await c.join();
  console.log(`producer exit ${p.exitCode}, consumer exit ${c.exitCode}`);
}
