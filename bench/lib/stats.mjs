/** Median, min and max of samples (the median of an even count is the mean of the middle two). */
export function summarize(samples) {
  const s = [...samples].sort((a, b) => a - b);
  const n = s.length;
  if (!n) return null;
  return { median: n % 2 ? s[n >> 1] : (s[n / 2 - 1] + s[n / 2]) / 2, min: s[0], max: s[n - 1], n };
}

/** Times `fn` `runs` times after `warmup` untimed runs; returns the samples in ms. */
export async function timeRuns(fn, { runs, warmup = 0 }) {
  const out = [];
  for (let i = 0; i < warmup + runs; i++) {
    const t0 = performance.now();
    await fn();
    const ms = performance.now() - t0;
    if (i >= warmup) out.push(ms);
  }
  return out;
}

/** Runs `fn` `n` times and collects what it returns (one sample per repetition). */
export async function reps(n, fn) {
  const out = [];
  for (let i = 0; i < n; i++) out.push(await fn());
  return out;
}
