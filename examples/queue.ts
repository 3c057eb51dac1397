// The seed's Queue example (Python docs, "Exchanging objects between processes"): the child puts
// [42, None, 'hello'] into a Queue and the parent gets it.
//
//   from multiprocessing import Process, Queue
//   def f(q):
//       q.put([42, None, 'hello'])
//   if __name__ == '__main__':
//       q = Queue()
//       p = Process(target=f, args=(q,))
//       p.start()
//       print(q.get())    # prints "[42, None, 'hello']"
//       p.join()
import { Process, Queue, isMainModule } from 'multiproc';

export async function f(q: Queue): Promise<void> {
  await q.put([42, null, 'hello']);
}

if (isMainModule(import.meta)) {
  const q = new Queue();
  const p = new Process({ target: f, args: [q] });
  p.start();
  console.log(await q.get()); // prints "[ 42, null, 'hello' ]"
  await p.join();
}
