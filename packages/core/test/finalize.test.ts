import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { isRunning, runNode, whenGone } from './helpers/procs';

const scenario = (name: string) => fileURLToPath(new URL(`./fixtures/scenarios/${name}`, import.meta.url));

async function daemonAfter(mode: string, signal?: NodeJS.Signals) {
  const run = runNode(scenario('exit-modes.mjs'), [mode]);
  const daemon = Number((await run.line(/^daemon (\d+)$/))[1]);
  await run.line(/^ready$/);
  await run.line(new RegExp(`^daemon running ${daemon}$`));
  expect(isRunning(daemon)).toBe(true);
  run.child.kill('SIGUSR2');
  if (signal) run.child.kill(signal);
  return { daemon, result: await run.done };
}

describe('daemonic children when the main process exits', () => {
  it.each(['end', 'exit', 'throw'])('are terminated when the parent ends by %s', async (mode) => {
    const { daemon, result } = await daemonAfter(mode);
    expect(await whenGone([daemon])).toEqual([]);
    if (mode === 'throw') {
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('uncaught on purpose');
    } else expect(result.code).toBe(0);
  });

  it.each(['SIGTERM', 'SIGINT', 'SIGHUP'] as const)('are terminated when the parent gets %s, which still ends the parent', async (sig) => {
    const { daemon, result } = await daemonAfter('signal', sig);
    expect(result.signal).toBe(sig);
    expect(await whenGone([daemon])).toEqual([]);
  });
});

describe('non-daemonic children', () => {
  it('keep the parent alive until they end', async () => {
    const run = runNode(scenario('exit-modes.mjs'), ['keepalive']);
    const daemon = Number((await run.line(/^daemon (\d+)$/))[1]);
    let exitedAt = 0;
    run.child.on('exit', () => (exitedAt = performance.now()));
    await run.line(/^non-daemon done$/);
    const doneAt = performance.now();
    const result = await run.done;
    expect(result.code).toBe(0);
    expect(exitedAt).toBeGreaterThanOrEqual(doneAt);
    expect(await whenGone([daemon])).toEqual([]);
  });
});

describe('a parent that dies', () => {
  it('makes its daemonic children end themselves; non-daemonic ones see parentProcess() end', async () => {
    const run = runNode(scenario('parent-dies.mjs'));
    const daemon = Number((await run.line(/^daemon (\d+)$/))[1]);
    const nonDaemon = Number((await run.line(/^non-daemon (\d+)$/))[1]);
    const watching = await run.line(/^watching (\S+) (\d+) (true|false)$/);
    expect(watching.slice(1)).toEqual(['MainProcess', String(run.child.pid), 'true']);
    expect(isRunning(daemon)).toBe(true);
    run.child.kill('SIGKILL');
    await run.line(/^parent gone false$/); // printed by the non-daemonic child
    expect(await whenGone([daemon, nonDaemon])).toEqual([]);
  });
});
