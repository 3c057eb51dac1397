// The one table the harness prints: metric, ours, Python, peers, and ours against the target.

const fmt = (v) => (v === undefined || v === null ? '' : Math.abs(v) >= 1000 ? v.toExponential(2) : v.toPrecision(3));
const cell = (s) => (s ? `${fmt(s.median)} (${fmt(s.min)}–${fmt(s.max)})` : '');

export function printTable(rows) {
  const lines = [];
  for (const r of rows) {
    const peers = Object.entries(r.peers ?? {})
      .map(([label, s]) => (s?.error ? `${label}: n/a (${s.error})` : `${label}: ${cell(s)}`))
      .join('; ');
    lines.push([
      r.metric,
      r.unit + (r.better === 'lower' ? ' ↓' : ' ↑'),
      r.ours?.error ? `n/a (${r.ours.error})` : cell(r.ours),
      r.python?.error ? `n/a (${r.python.error})` : cell(r.python),
      r.verdict ?? '',
      peers,
    ]);
  }
  const head = ['metric', 'unit', 'ours', 'python', 'target', 'peers'];
  const widths = head.map((h, i) => Math.min(46, Math.max(h.length, ...lines.map((l) => l[i].length))));
  const row = (cols) => cols.map((c, i) => (i < 5 ? c.padEnd(widths[i]) : c)).join('  ');
  console.log(`\n${row(head)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}------`);
  for (const l of lines) console.log(row(l));
  console.log('\nmedian (min–max); ↓ lower is better, ↑ higher is better');
  for (const r of rows) if (r.note) console.log(`${r.metric}: ${r.note}`);
}
