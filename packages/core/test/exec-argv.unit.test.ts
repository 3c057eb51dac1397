// childExecArgv: which of the parent's Node flags a child gets. No process is started.
import { describe, expect, it } from 'vitest';
import { childExecArgv } from '../src/popen/exec-argv';

describe('childExecArgv', () => {
  it.each([
    ['-e x', ['-e', 'code()']],
    ['--eval x', ['--eval', 'code()']],
    ['--eval=x', ['--eval=code()']],
    ['-p x', ['-p', 'code()']],
    ['--print x', ['--print', 'code()']],
    ['--print=x', ['--print=code()']],
    ['-pe x', ['-pe', 'code()']],
    ['-ep x', ['-ep', 'code()']],
    ['-p -e x', ['-p', '-e', 'code()']],
    ['--print --eval x', ['--print', '--eval', 'code()']],
    ['-p --eval=x', ['-p', '--eval=code()']],
    ['-e=x', ['-e=code()']],
    ['code that looks like a flag', ['-e', '--import=evil']],
    ['--input-type=module', ['--input-type=module']],
    ['--input-type module', ['--input-type', 'module']],
    ['-i', ['-i']],
    ['--interactive', ['--interactive']],
    ['--inspect, --inspect=port, --inspect-brk, --inspect-wait', ['--inspect', '--inspect=9229', '--inspect-brk', '--inspect-wait=0.0.0.0:1']],
    ['--inspect-port n, --inspect-port=n, --debug-port n', ['--inspect-port', '9230', '--inspect-port=9231', '--debug-port', '1']],
    ['--watch, --watch-path p, --watch-path=p', ['--watch', '--watch-path', 'src', '--watch-path=lib', '--watch-preserve-output']],
    ['--test and its options', ['--test', '--test-only', '--test-reporter', 'spec', '--test-name-pattern=x', '--test-concurrency', '2']],
  ])('drops %s, and keeps what is around it', (_, flags) => {
    expect(childExecArgv(['--import', 'tsx', ...flags, '--no-warnings'])).toEqual(['--import', 'tsx', '--no-warnings']);
  });

  it.each([
    ['loaders', ['--import', 'tsx', '--import=./a.mjs', '--loader', 'ts-node/esm', '--experimental-loader=./l.mjs']],
    ['required modules', ['-r', './setup.cjs', '--require', 'x', '--require=y']],
    ['conditions', ['-C', 'development', '--conditions=custom']],
    ['V8 and Node options', ['--max-old-space-size=512', '--enable-source-maps', '--stack-size', '2000', '--no-deprecation']],
  ])('keeps %s', (_, flags) => {
    expect(childExecArgv(flags)).toEqual(flags);
  });

  it('reads process.execArgv by default', () => {
    expect(childExecArgv()).toEqual(childExecArgv(process.execArgv));
  });
});
