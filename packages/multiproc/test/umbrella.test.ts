import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import * as umbrella from 'multiproc';
import * as core from '@multiproc/core';
import * as errors from '@multiproc/errors';
import * as pipe from '@multiproc/pipe';
import * as queue from '@multiproc/queue';

const fixture = (f: string) => fileURLToPath(new URL(`./fixtures/${f}`, import.meta.url));

describe('multiproc (umbrella)', () => {
  it('exports everything of errors, core, pipe and queue, as the same objects', () => {
    for (const [name, value] of Object.entries({ ...errors, ...core, ...pipe, ...queue })) {
      expect((umbrella as any)[name], name).toBe(value);
    }
  });

  it('works from an .mjs and a .cjs program', () => {
    expect(execFileSync(process.execPath, [fixture('use.mjs')], { encoding: 'utf8' })).toBe('esm child mjs Process-1\nmjs 0 function function\n');
    expect(execFileSync(process.execPath, [fixture('use.cjs')], { encoding: 'utf8' })).toBe('cjs child cjs Process-1\ncjs 0 function function\n');
  });
});
