// The smallest complete program: one child that prints "hello bob".
// Port of the first example of the Python documentation (`f('bob')`).
import { Process, isMainModule } from 'multiproc';

export function f(name: string): void {
  console.log('hello', name);
}

if (isMainModule(import.meta)) {
  const p = new Process({ target: f, args: ['bob'] });
  p.start();
  await p.join();
}
