import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { redis } from '../src/location';

describe('redis(url)', () => {
  it('never shows the password', () => {
    for (const url of ['redis://:hunter2@db.example:6380/2', 'redis://app:hunter2@db.example', 'unix:///run/redis.sock?password=hunter2&db=1']) {
      const where = redis(url);
      for (const text of [String(where), inspect(where), JSON.stringify({ where }), where.display]) {
        expect(text).not.toContain('hunter2');
        expect(text).toContain('***');
      }
    }
    expect(() => redis('ftp://:hunter2@x')).toThrow(/unsupported scheme ftp: in ftp:\/\/:\*\*\*@x/);
    expect(() => redis('redis://:hunter2@x/abc')).toThrow(/database must be a number/);
    try {
      redis('redis://:hunter2@x/abc');
    } catch (e) {
      expect(String(e)).not.toContain('hunter2');
    }
  });

  it('checks its arguments', () => {
    expect(() => redis(42 as never)).toThrow(/url must be a string/);
    expect(() => redis('not a url')).toThrow(/not a URL/);
    expect(() => redis('unix:///')).toThrow(/names no socket path/);
    expect(() => redis('redis://x', { authkey: 5 as never })).toThrow(/authkey must be a Buffer or a string/);
    expect(() => redis('redis://x', { authkey: '' })).toThrow(/must not be empty/);
    expect(() => redis('redis://x', { bogus: 1 } as never)).toThrow(/unknown option 'bogus'/);
    expect(redis('redis://x', { authkey: 'k' }).authkey).toEqual(Buffer.from('k'));
  });
});
