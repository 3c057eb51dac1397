// process_start_join_ms of mp_bench.py, side by side in one run: a bare `node -e ""` start,
// multiproc's Process (target in an ES module and in a CommonJS module), and Python's
// multiprocessing (spawn, forkserver, fork) when python3 is here.
//
//   node bench/process-start.mjs [--runs 20] [--warmup 2]
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Process, isMainModule } from 'multiproc';

/** A function target exported from this script: the child imports the whole script, as Python's spawn re-imports __main__. */
export function noop() {}

if (isMainModule(import.meta)) await main();

async function main() {
const { values } = parseArgs({ options: { runs: { type: 'string', default: '20' }, warmup: { type: 'string', default: '2' } } });
const RUNS = Number(values.runs);
const WARMUP = Number(values.warmup);

const esmTarget = { module: new URL('./children/noop.mjs', import.meta.url), export: 'noop' };
const cjsTarget = { module: new URL('./children/noop.cjs', import.meta.url), export: 'noop' };

function bare() {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    spawn(process.execPath, ['-e', ''], { stdio: 'inherit' })
      .on('error', reject)
      .on('exit', () => resolve(performance.now() - t0));
  });
}

async function ours(target) {
  const t0 = performance.now();
  const p = new Process({ target });
  p.start();
  await p.join();
  const ms = performance.now() - t0;
  if (p.exitCode !== 0) throw new Error(`noop child ended with ${p.exitCode}`);
  return ms;
}

const cases = {
  'node -e ""': bare,
  'multiproc, ESM module target': () => ours(esmTarget),
  'multiproc, CJS module target': () => ours(cjsTarget),
  'multiproc, exported function': () => ours(noop),
};
const samples = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
// Interleaved, so drift in the machine's speed hits every case alike.
for (let i = 0; i < WARMUP + RUNS; i++) {
  for (const [name, run] of Object.entries(cases)) {
    const ms = await run();
    if (i >= WARMUP) samples[name].push(ms);
  }
}

const stats = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return { median: n % 2 ? s[n >> 1] : (s[n / 2 - 1] + s[n / 2]) / 2, min: s[0], max: s[n - 1], n };
};
const rows = Object.entries(samples).map(([name, xs]) => ({ name, ...stats(xs) }));

const script = new URL('../../shared/bench/python/mp_bench.py', import.meta.url).pathname;
if (existsSync(script) && spawnSync('python3', ['--version']).status === 0) {
  const dir = mkdtempSync(join(tmpdir(), 'mp-bench-'));
  const out = join(dir, 'py.json');
  const r = spawnSync('python3', [script, '--only', 'process_start_join_ms', '--rounds', '1', '--out', out], { encoding: 'utf8' });
  if (r.status === 0) {
    for (const m of JSON.parse(readFileSync(out, 'utf8')).metrics) rows.push({ ...m, name: `python ${m.name.replace('process_start_join_ms', '')}` });
  } else console.error(`python3 mp_bench.py failed:\n${r.stderr}`);
  rmSync(dir, { recursive: true, force: true });
} else console.log('(python3 or ../shared/bench/python/mp_bench.py not found: no Python column)');

const base = rows[0].median;
console.log(`\nprocess_start_join_ms: start() + join() of a no-op target, median of ${RUNS} (min–max), ratio to node -e ""\n`);
for (const r of rows) {
  console.log(`  ${r.name.padEnd(30)} ${r.median.toFixed(1).padStart(7)} ms   (${r.min.toFixed(1)}–${r.max.toFixed(1)})   ${(r.median / base).toFixed(2)}×`);
}
}
