/** What a map's progress bar needs; cli-progress is loaded only when a bar is asked for. */
export interface Progress {
  increment(n: number): void;
  stop(): void;
}

/** A bar on stderr (cli-progress), or null when not asked for or stderr is not a terminal. */
export function progressBar(option: boolean | string | undefined, total: number | null): Progress | null {
  if (!option || !process.stderr.isTTY) return null;
  const { SingleBar, Presets } = require('cli-progress') as typeof import('cli-progress');
  const label = typeof option === 'string' ? `${option} ` : '';
  const bar = new SingleBar(
    {
      format: total === null ? `${label}{value} done | {duration_formatted}` : `${label}[{bar}] {percentage}% | {value}/{total} | ETA {eta_formatted}`,
      stream: process.stderr,
      hideCursor: true,
      clearOnComplete: false,
    },
    Presets.shades_classic,
  );
  bar.start(total ?? 0, 0);
  let stopped = false;
  return {
    increment: (n) => bar.increment(n),
    stop: () => {
      if (stopped) return;
      stopped = true;
      bar.stop();
    },
  };
}
