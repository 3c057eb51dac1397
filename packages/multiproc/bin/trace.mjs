// `multiproc trace <file.json> [--width N]`: renderTimeline's text timeline of a trace file.
import { createRequire } from 'node:module';

const USAGE = `Usage: multiproc trace <file.json> [--width N]

Prints the trace file written by MULTIPROC_TRACE=file.json (or startTrace()) as a text
timeline: one row per process. N is the width in columns (default: the terminal's, else 100).
Open the same file in https://ui.perfetto.dev or chrome://tracing for the full view.
`;

export function run(args) {
  let file;
  let width = process.stdout.columns && process.stdout.columns >= 40 ? process.stdout.columns : 100;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === '--help' || arg === '-h') {
      process.stdout.write(USAGE);
      return 0;
    }
    if (arg === '--width' || arg.startsWith('--width=')) {
      const value = arg === '--width' ? args[++i] : arg.slice('--width='.length);
      width = Number(value);
      if (!Number.isInteger(width) || width < 40) return fail(`--width must be a whole number of columns, at least 40; got ${value === undefined ? 'nothing' : `'${value}'`}`);
    } else if (arg.startsWith('-')) return fail(`unknown option '${arg}'`);
    else if (file === undefined) file = arg;
    else return fail(`one trace file only; got '${file}' and '${arg}'`);
  }
  if (file === undefined) return fail('which trace file? e.g. multiproc trace trace.json');
  // The package's own CommonJS build: one copy of it, whoever else loads it.
  const { renderTimeline } = createRequire(import.meta.url)('../dist/index.js');
  process.stdout.write(renderTimeline(file, { width }));
  return 0;
}

function fail(message) {
  process.stderr.write(`multiproc trace: ${message}\n\n${USAGE}`);
  return 2;
}
