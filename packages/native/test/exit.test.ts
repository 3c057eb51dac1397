import { execFile } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { exitNow } from '@multiproc/native';

/** Runs `code` in a fresh Node process; resolves with its exit code and output. */
function run(code: string): Promise<{ code: number | null; stdout: string }> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, ['-e', code], (err, stdout) => resolve({ code: err ? ((err as any).code ?? null) : 0, stdout }));
    child.stdin?.end();
  });
}

describe('exitNow', () => {
  it("ends the process at once with the code: what it wrote arrives, 'exit' listeners do not run", async () => {
    const r = await run(`
      process.on('exit', () => require('fs').writeSync(1, 'listener ran\\n'));
      require('fs').writeSync(1, 'before\\n');
      require('@multiproc/native').exitNow(7);
      require('fs').writeSync(1, 'after\\n');
    `);
    expect(r).toEqual({ code: 7, stdout: 'before\n' });
  });

  it("ends the process from an 'exit' listener, with its own code, before the listeners after it", async () => {
    const r = await run(`
      process.on('exit', (code) => require('@multiproc/native').exitNow(code + 5));
      process.on('exit', () => require('fs').writeSync(1, 'later listener ran\\n'));
      process.exit(2);
    `);
    expect(r).toEqual({ code: 7, stdout: '' });
  });

  it('checks its argument', () => {
    expect(() => exitNow(256)).toThrow(/exitNow\(\): code must be an exit code \(an integer from 0 to 255\), not 256/);
    expect(() => exitNow(-1)).toThrow(RangeError);
    expect(() => exitNow(1.5)).toThrow(RangeError);
    expect(() => exitNow('1' as any)).toThrow(TypeError);
  });
});
