// Runs the whole suite once (all projects of vitest.config.mts) and ends with a plain
// "N passed, N failed" line, whatever the reporter prints above it.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const out = '.test-results/vitest.json';
mkdirSync('.test-results', { recursive: true });
const vitest = createRequire(import.meta.url).resolve('vitest/package.json').replace(/package\.json$/, 'vitest.mjs');
const { status } = spawnSync(process.execPath, [vitest, 'run', '--reporter=default', '--reporter=json', `--outputFile=${out}`, ...process.argv.slice(2)], {
  stdio: 'inherit',
});
let summary = 'no test results were written';
try {
  const r = JSON.parse(readFileSync(out, 'utf8'));
  summary = `${r.numPassedTests} passed, ${r.numFailedTests} failed` + (r.numPendingTests ? `, ${r.numPendingTests} skipped` : '');
} catch {}
console.log(`\n${summary}`);
process.exit(status ?? 1);
