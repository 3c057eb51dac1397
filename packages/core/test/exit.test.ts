import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { runNode } from './helpers/procs';

const script = fileURLToPath(new URL('./fixtures/scenarios/child-exit.mjs', import.meta.url));
const empty = mkdtempSync(join(tmpdir(), 'multiproc-no-binary-'));
afterAll(() => rmSync(empty, { recursive: true, force: true }));

describe('a child, which ends at once after its exit listeners', () => {
  it.each([
    ['at once', {}],
    // node-gyp-build's override of where the addon's binaries are: an empty directory has none.
    ["through Node's exit where the addon has no binary", { '@MULTIPROC/NATIVE_PREBUILD': empty }],
  ])("runs the target's 'exit' listeners, keeps what it printed, and ends with Node's code: %s", async (_, env) => {
    const { code, lines, stderr } = await runNode(script, [], { env }).done;
    expect(stderr).toContain('thrown on purpose');
    expect(code).toBe(0);
    expect(lines).toEqual([
      'return printed', 'return exit listener 0', 'return exitCode 0',
      'throw printed', 'throw exit listener 1', 'throw exitCode 1',
      'exit(3) printed', 'exit(3) exit listener 3', 'exit(3) exitCode 3',
      // As Node's own exit: the kernel keeps the low 8 bits.
      'exit(256) printed', 'exit(256) exit listener 256', 'exit(256) exitCode 0',
      'exit(-1) printed', 'exit(-1) exit listener -1', 'exit(-1) exitCode 255',
      'exitCode=4 exit listener 4', 'exitCode=4 exitCode 4',
    ]);
  });

  it("keeps Node's own exit where Node writes at exit: a child's V8 coverage is written", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'multiproc-coverage-'));
    try {
      const run = runNode(script, [], { env: { NODE_V8_COVERAGE: dir } });
      const { code } = await run.done;
      expect(code).toBe(0);
      // One file per process that ended: the program and its six children (and spares it ended).
      const files = readdirSync(dir).filter((f) => f.startsWith('coverage-'));
      expect(files.length).toBeGreaterThanOrEqual(7);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
