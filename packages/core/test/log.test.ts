import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { DEBUG, ERROR, getLogger, INFO, logToStderr, SUBDEBUG, SUBWARNING, WARNING, type LogRecord } from '@multiproc/core';
import { runNode } from './helpers/procs';

const scenario = (f: string) => fileURLToPath(new URL(`./fixtures/scenarios/${f}`, import.meta.url));
const logLines = (text: string) => text.split('\n').filter((l) => l.startsWith('['));

describe('getLogger() and logToStderr()', () => {
  afterEach(() => {
    getLogger().setSink(null);
    getLogger().setLevel(0);
  });

  it('has Python levels and is silent until asked', () => {
    expect([SUBDEBUG, DEBUG, INFO, SUBWARNING, WARNING, ERROR]).toEqual([5, 10, 20, 25, 30, 40]);
    const log = getLogger();
    expect(log.level).toBe(0);
    expect(log.isEnabledFor('error')).toBe(false);
    expect(logToStderr).toBeTypeOf('function');
  });

  it('sends records to a function sink, in Python\'s format, from the level set on', () => {
    const got: [string, LogRecord][] = [];
    const log = getLogger();
    log.setSink((line, record) => got.push([line, record]));
    log.info('not yet'); // NOTSET logs WARNING and above, as Python's root level
    log.warning('careful %d', 3);
    log.setLevel('Debug');
    log.subDebug('too fine');
    log.debug('now %s', 'yes');
    expect(got.map(([line]) => line)).toEqual(['[WARNING/MainProcess] careful 3', '[DEBUG/MainProcess] now yes']);
    expect(got[1][1]).toMatchObject({ level: DEBUG, levelName: 'DEBUG', processName: 'MainProcess', pid: process.pid, message: 'now yes' });
    expect(log.isEnabledFor(DEBUG) && !log.isEnabledFor('subdebug')).toBe(true);
  });

  it('calls the method of a console-like sink for each level', () => {
    const calls: string[] = [];
    const sink = Object.fromEntries(['log', 'debug', 'info', 'warn', 'error'].map((m) => [m, (line: string) => calls.push(`${m}: ${line}`)]));
    const log = getLogger();
    log.setSink(sink as any);
    log.setLevel(SUBDEBUG);
    log.subDebug('a');
    log.info('b');
    log.subWarning('c');
    log.error('d');
    expect(calls).toEqual(['debug: [SUBDEBUG/MainProcess] a', 'info: [INFO/MainProcess] b', 'info: [SUBWARNING/MainProcess] c', 'error: [ERROR/MainProcess] d']);
  });

  it('refuses a bad level or sink, saying what it takes', () => {
    expect(() => logToStderr('loud')).toThrow(/logToStderr\(level\): level must be a non-negative integer or one of 'notset', 'subdebug', 'debug', 'info'.*got the string "loud"/);
    expect(() => getLogger().setLevel(-1)).toThrow(TypeError);
    expect(() => getLogger().setLevel(1.5)).toThrow(/Logger.setLevel\(level\)/);
    expect(() => getLogger().setSink(42 as any)).toThrow(/sink must be a function \(line, record\) => void, an object with log\/debug\/info\/warn\/error methods/);
    expect(() => getLogger().setSink({ log() {} } as any)).toThrow(TypeError);
    expect(getLogger().level).toBe(0);
  });

  it('logs the life of a process in order, from parent and child, and children inherit the level', async () => {
    const { code, stdout, stderr } = await runNode(scenario('logging.mjs'), ['debug', 'stderr']).done;
    expect(code, stderr).toBe(0);
    expect(stdout).toBe('child level 10');
    const lines = logLines(stderr);
    // Process-2 (the daemon) may or may not have begun its run() when the exit terminates it.
    const ordered = lines.filter((l) => !/^\[\w+\/Process-2\]/.test(l)).map((l) => l.replace(/pid \d+/, 'pid N').replace(/ \((spawn|forkserver)\)$/, ''));
    expect(ordered).toEqual([
      '[INFO/MainProcess] starting Process-1',
      '[DEBUG/MainProcess] Process-1 has pid N',
      '[INFO/Process-1] child process calling self.run()',
      '[DEBUG/Process-1] debug line from child',
      '[INFO/Process-1] process shutting down',
      '[DEBUG/Process-1] running the remaining "atexit" finalizers',
      '[INFO/Process-1] process exiting with exitcode 0',
      '[DEBUG/MainProcess] Process-1 (pid N) ended with exit code 0',
      '[INFO/MainProcess] starting Process-2',
      '[DEBUG/MainProcess] Process-2 has pid N',
      '[INFO/MainProcess] process shutting down',
      '[INFO/MainProcess] calling terminate() for daemon Process-2',
    ]);
  });

  it('at INFO, neither parent nor child writes DEBUG lines', async () => {
    const { code, stdout, stderr } = await runNode(scenario('logging.mjs'), ['info', 'stderr']).done;
    expect(code, stderr).toBe(0);
    expect(stdout).toBe('child level 20');
    const lines = logLines(stderr);
    expect(lines).toContain('[INFO/Process-1] process exiting with exitcode 0');
    expect(lines.filter((l) => l.startsWith('[DEBUG'))).toEqual([]);
  });

  it('a function sink gets the parent\'s records; the children, which cannot take a function, log to stderr', async () => {
    const { code, stdout, stderr } = await runNode(scenario('logging.mjs'), ['info', 'sink']).done;
    expect(code, stderr).toBe(0);
    const sunk = stdout.split('\n').filter((l) => l.startsWith('sink '));
    expect(sunk[0]).toMatch(/^sink \[INFO\/MainProcess\] starting Process-1 \(\w+\) INFO \d+$/);
    expect(sunk.some((l) => l.startsWith('sink [INFO/MainProcess] calling terminate() for daemon Process-2'))).toBe(true);
    expect(logLines(stderr).filter((l) => !l.startsWith('[INFO/Process-2]'))).toEqual([
      '[INFO/Process-1] child process calling self.run()',
      '[INFO/Process-1] process shutting down',
      '[INFO/Process-1] process exiting with exitcode 0',
    ]);
  });
});
