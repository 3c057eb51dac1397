// A consumer killed with SIGKILL does not take the queue's items with it. The consumer gets 5
// items (and may have read more ahead), tells the parent so over a Pipe, and is killed. The
// broker then reads how many items the consumer really handed to its program (recorded before
// each get() returns) and puts the rest back at the front, in order: the parent gets 6..20.
import { Pipe, Process, Queue, isMainModule, type Connection } from 'multiproc';

export async function consume(q: Queue<number>, conn: Connection): Promise<void> {
  const taken: number[] = [];
  for (let i = 0; i < 5; i++) taken.push(await q.get());
  await conn.send(taken);
  await conn.recv(); // waits here until it is killed
}

if (isMainModule(import.meta)) {
  const q = new Queue<number>();
  for (let n = 1; n <= 20; n++) await q.put(n);

  const [mine, theirs] = Pipe();
  const consumer = new Process({ target: consume, args: [q, theirs] });
  consumer.start();
  theirs.close();
  console.log(`the consumer took: ${(await mine.recv()).join(' ')}`);
  consumer.kill();
  await consumer.join();
  mine.close();
  console.log(`killed: exit code ${consumer.exitCode}`);

  const rest: number[] = [];
  while (rest.length < 15) rest.push(await q.get());
  console.log(`the parent got: ${rest.join(' ')}`);
  console.log(`then: ${await q.get({ timeout: 0 }).then(String, (err: Error) => err.name)}`);
  q.close();
}
