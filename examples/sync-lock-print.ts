// Ten processes print through one Lock, so no two lines mix.
// Port of the example in Python's docs, "Synchronization between processes":
//
//     def f(l, i):
//         l.acquire()
//         try:
//             print('hello world', i)
//         finally:
//             l.release()
import { Process, isMainModule } from 'multiproc';
import { Lock } from '@multiproc/sync';

export async function f(l: Lock, i: number): Promise<void> {
  // await: a process waiting for the lock keeps its event loop free (acquireSync would block it).
  await l.acquire();
  try {
    console.log('hello world', i);
  } finally {
    l.release();
  }
}

if (isMainModule(import.meta)) {
  const lock = new Lock();
  for (let num = 0; num < 10; num++) new Process({ target: f, args: [lock, num] }).start();
}
