// A user's program, as bench/workloads/process.mjs's user-shaped rows run it: its main module
// imports multiproc, exports the target, and starts it at a user's pace (one start every
// --pace ms, the default pool). Each child imports this module, as Python's spawn re-imports
// __main__ (under 'forkserver' the spares have it preloaded). Prints the start + join samples
// (ms) as one JSON line.
//
//   node bench/children/user-main.mjs --method forkserver --runs 30 --warmup 2 --pace 150
import { parseArgs } from 'node:util';
import { getContext, isMainModule } from 'multiproc';

export function work() {}

if (isMainModule(import.meta)) {
  const { values } = parseArgs({
    options: { method: { type: 'string', default: 'spawn' }, runs: { type: 'string', default: '30' }, warmup: { type: 'string', default: '2' }, pace: { type: 'string', default: '150' } },
  });
  const ctx = getContext(values.method);
  const out = [];
  for (let i = 0; i < Number(values.warmup) + Number(values.runs); i++) {
    await new Promise((resolve) => setTimeout(resolve, Number(values.pace)));
    const t0 = performance.now();
    const p = new ctx.Process({ target: work });
    p.start();
    await p.join();
    const ms = performance.now() - t0;
    if (p.exitCode !== 0) throw new Error(`work ended with ${p.exitCode}`);
    if (i >= Number(values.warmup)) out.push(ms);
  }
  console.log(JSON.stringify(out));
}
