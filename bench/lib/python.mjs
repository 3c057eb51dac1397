// Runs the reference script (../shared/bench/python/mp_bench.py) for some of its benchmarks, through
// python/mp_bench_more.py (which adds workloads the reference lacks, measured the same way), and
// returns its metrics by name. The script repeats the same workloads with the same constants.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const SCRIPT = fileURLToPath(new URL('../../../shared/bench/python/mp_bench.py', import.meta.url));
const MORE = fileURLToPath(new URL('../python/mp_bench_more.py', import.meta.url));

/** Why Python's column is empty, or null when it can run. */
export function pythonUnavailable() {
  if (!existsSync(SCRIPT)) return `${SCRIPT} not found`;
  if (spawnSync('python3', ['--version']).status !== 0) return 'python3 not found';
  return null;
}

/** `benches`: mp_bench.py benchmark names for --only. Resolves to Map(metric name → metric). */
export function runPython(benches, rounds) {
  const dir = mkdtempSync(join(tmpdir(), 'mp-bench-'));
  const out = join(dir, 'python.json');
  try {
    const r = spawnSync('python3', [MORE, '--only', benches.join(','), '--rounds', String(rounds), '--out', out], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    if (r.status !== 0) throw new Error(`python3 mp_bench.py failed (${r.status}):\n${r.stderr.slice(-2000)}`);
    return new Map(JSON.parse(readFileSync(out, 'utf8')).metrics.map((m) => [m.name, m]));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
