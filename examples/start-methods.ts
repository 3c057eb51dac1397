// Python's "Contexts and start methods" examples, with the start method Node keeps warm:
//
//   import multiprocessing as mp
//   def foo(q):
//       q.put('hello')
//   if __name__ == '__main__':
//       mp.set_start_method('forkserver')
//       q = mp.Queue()
//       p = mp.Process(target=foo, args=(q,))
//       p.start()
//       print(q.get())
//       p.join()
//
// and the same through a context, for one part of a program: ctx = mp.get_context('spawn').
import { Process, Queue, getContext, isMainModule, setForkserverOptions, setStartMethod } from 'multiproc';

export async function foo(q: Queue): Promise<void> {
  await q.put('hello');
}

if (isMainModule(import.meta)) {
  setStartMethod('forkserver');
  // Optional: how many booted Node processes wait for start() (default 2).
  setForkserverOptions({ spares: 1 });
  const q = new Queue();
  const p = new Process({ target: foo, args: [q] });
  p.start();
  console.log(await q.get()); // hello
  await p.join();

  const ctx = getContext('spawn');
  const q2 = new ctx.Queue();
  const p2 = new ctx.Process({ target: foo, args: [q2] });
  p2.start();
  console.log(await q2.get()); // hello
  await p2.join();
}
