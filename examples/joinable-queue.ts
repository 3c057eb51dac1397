// A work list with a JoinableQueue (Python's JoinableQueue example): daemonic workers take
// tasks and call taskDone() for each; the parent's join() returns once every task is done.
import { JoinableQueue, Process, Queue, isMainModule } from 'multiproc';

export async function worker(tasks: JoinableQueue<string>, done: Queue<string>): Promise<void> {
  for (;;) {
    const task = await tasks.get();
    await done.put(`${task.toUpperCase()} (by ${process.pid})`);
    await tasks.taskDone();
  }
}

if (isMainModule(import.meta)) {
  const tasks = new JoinableQueue<string>();
  const done = new Queue<string>();
  // Daemonic: they loop forever, and end with the parent.
  for (let i = 0; i < 2; i++) new Process({ target: worker, args: [tasks, done], daemon: true }).start();

  const words = ['alpha', 'beta', 'gamma', 'delta', 'epsilon'];
  for (const w of words) await tasks.put(w);
  await tasks.join(); // every task has been marked done
  const results: string[] = [];
  for (let i = 0; i < words.length; i++) results.push((await done.get()).split(' ')[0]);
  console.log(`all ${words.length} tasks done: ${results.sort().join(', ')}`);
}
