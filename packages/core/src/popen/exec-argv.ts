/** Long flags whose code or value follows them (`--eval x`) unless joined by `=`: dropped with it. */
const DROP_WITH_VALUE = new Set([
  '--eval',
  '--print',
  '--input-type',
  '--inspect-port',
  '--debug-port',
  '--watch-path',
  '--watch-kill-signal',
  '--test-name-pattern',
  '--test-skip-pattern',
  '--test-reporter',
  '--test-reporter-destination',
  '--test-concurrency',
  '--test-timeout',
  '--test-shard',
  '--test-isolation',
  '--test-global-setup',
  '--test-coverage-include',
  '--test-coverage-exclude',
  '--test-coverage-branches',
  '--test-coverage-functions',
  '--test-coverage-lines',
]);

/** Node's flags that run code of their own (`-e`, `-p`, `-pe`, `-ep`) or a REPL (`-i`), short forms. */
const SHORT_CODE = /^-[a-zA-Z]*[ep][a-zA-Z]*$/;
const SHORT_INTERACTIVE = /^-[a-zA-Z]*i[a-zA-Z]*$/;

/**
 * The parent's execArgv, minus what would make the child do something else than run our entry
 * (`-e`, `-p` and their code in every spelling, `--input-type`, `-i`) or fight over a resource
 * (`--inspect` ports, `--watch`, `--test`). Loader flags (`--import tsx`) stay, so a TypeScript
 * program's children import its `.ts` modules.
 */
export function childExecArgv(execArgv: readonly string[] = process.execArgv): string[] {
  const out: string[] = [];
  for (let i = 0; i < execArgv.length; i++) {
    const a = execArgv[i];
    const eq = a.indexOf('=');
    const flag = eq < 0 ? a : a.slice(0, eq);
    if (!a.startsWith('--') && a.startsWith('-') && a.length > 1) {
      // `-e=x` is no Node syntax, but its code is in it: nothing follows to skip.
      if (eq >= 0 && SHORT_CODE.test(flag)) continue;
      if (SHORT_CODE.test(a)) {
        // `-p` before `-e …`/`--eval …` prints what that evaluates: the next flag carries the code.
        if (!isEvalFlag(execArgv[i + 1])) i++;
        continue;
      }
      if (SHORT_INTERACTIVE.test(a)) continue;
    }
    if (DROP_WITH_VALUE.has(flag)) {
      if (eq < 0 && !(flag === '--print' && isEvalFlag(execArgv[i + 1]))) i++;
      continue;
    }
    if (/^--(inspect|debug)(-brk|-wait)?$/.test(flag) || flag === '--interactive') continue;
    if (flag.startsWith('--watch') || flag === '--test' || flag.startsWith('--test-')) continue;
    out.push(a);
  }
  return out;
}

function isEvalFlag(a: string | undefined): boolean {
  return a !== undefined && (a === '--eval' || a.startsWith('--eval=') || (!a.startsWith('--') && SHORT_CODE.test(a.split('=')[0])));
}
