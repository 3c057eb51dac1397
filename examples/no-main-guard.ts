// What goes wrong without the main-module guard (do not copy this one; hello-bob.ts has the guard).
// The child imports this module to find `f`, as Python's spawn re-imports __main__, so the
// top-level code below runs again in the child: it would start a grandchild, which would start
// another, without end. multiproc refuses instead: in the child, start() throws an error that
// explains the guard, the child exits with code 1, and `f` never runs.
import { Process } from 'multiproc';

export function f(): void {
  console.log('f runs'); // never printed
}

const p = new Process({ target: f });
p.start();
await p.join();
console.log(`the child ended with exit code ${p.exitCode}, and its error on stderr says why`);
