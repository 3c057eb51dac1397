// A bar chart of ours ÷ reference for every metric that has both, rendered to SVG with Vega-Lite.
import { writeFileSync } from 'node:fs';
import * as vega from 'vega';
import { compile } from 'vega-lite';

export async function writeChart(rows, file) {
  const data = rows
    .filter((r) => r.ratio !== undefined)
    .map((r) => {
      // On one scale where higher is better: a lower-is-better ratio r (target ≤ f) becomes 1/r (target ≥ 1/f).
      const flip = (x) => (r.better === 'lower' ? 1 / x : x);
      return { metric: r.metric, ratio: flip(r.ratio), target: flip(r.factor), against: r.against, met: r.met ? 'target met' : 'target not met' };
    });
  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: { text: 'multiproc: how many times better than the reference (higher is better)', subtitle: 'reference: Python multiprocessing, or node -e "" / a raw socket where the target says so; black tick: the target' },
    width: 520,
    height: { step: 22 },
    data: { values: data },
    layer: [
      {
        mark: 'bar',
        encoding: {
          y: { field: 'metric', type: 'nominal', sort: null, title: null, axis: { labelLimit: 320 } },
          x: { field: 'ratio', type: 'quantitative', title: 'speed relative to the reference (×)' },
          color: { field: 'met', type: 'nominal', scale: { domain: ['target met', 'target not met'], range: ['#4c9a2a', '#c2452d'] }, title: null },
          tooltip: [{ field: 'against' }],
        },
      },
      { mark: { type: 'rule', strokeDash: [4, 3] }, encoding: { x: { datum: 1 } } },
      {
        mark: { type: 'tick', color: 'black', thickness: 2 },
        encoding: { y: { field: 'metric', type: 'nominal', sort: null }, x: { field: 'target', type: 'quantitative' } },
      },
    ],
  };
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  writeFileSync(file, await view.toSVG());
  view.finalize();
}
