// Where a Redis (or Valkey) server is and how to reach it. The password stays inside this
// object: what it prints, throws, logs or hands to another process names the server without it.
import { describeValue, refuseUnknownOptions } from '@multiproc/core/internal';
import Redis, { type RedisOptions } from 'ioredis';
import { inspect } from 'node:util';

export interface RedisLocationOptions {
  /**
   * The key that signs task and result messages (HMAC-SHA256), shared by every process and
   * machine of one deployment: a Buffer or string. Default: env MULTIPROC_REDIS_AUTHKEY.
   */
  authkey?: Buffer | string | null;
  /** Prefix of every key this library makes on the server (default 'multiproc:'). */
  prefix?: string;
}

/** `redis://[user:password@]host[:port][/db]`, `rediss://…` (TLS), or `unix:///path/to.sock[?db=N&password=…]`. */
export function parseRedisUrl(url: string): { options: RedisOptions; display: string } {
  if (typeof url !== 'string' || url === '') {
    throw new TypeError(`redis(url): url must be a string such as redis://127.0.0.1:6379 or unix:///run/redis.sock, got ${describeValue(url)}`);
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new TypeError(`redis(url): not a URL: ${hide(url)}; use redis://host:port, rediss://host:port or unix:///path/to.sock`);
  }
  const params = parsed.searchParams;
  const db = parsed.protocol === 'unix:' ? params.get('db') : parsed.pathname.slice(1);
  const options: RedisOptions = {};
  if (db) {
    if (!/^\d+$/.test(db)) throw new TypeError(`redis(url): the database must be a number, got ${JSON.stringify(db)} in ${hide(url)}`);
    options.db = Number(db);
  }
  const password = parsed.password ? decodeURIComponent(parsed.password) : params.get('password');
  if (password) options.password = password;
  if (parsed.username) options.username = decodeURIComponent(parsed.username);
  switch (parsed.protocol) {
    case 'unix:':
      if (!parsed.pathname || parsed.pathname === '/') throw new TypeError(`redis(url): ${hide(url)} names no socket path`);
      options.path = decodeURIComponent(parsed.pathname);
      break;
    case 'rediss:':
      options.tls = { servername: parsed.hostname };
    // falls through
    case 'redis:':
      options.host = parsed.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1';
      options.port = parsed.port ? Number(parsed.port) : 6379;
      break;
    default:
      throw new TypeError(`redis(url): unsupported scheme ${parsed.protocol} in ${hide(url)}; use redis://, rediss:// or unix://`);
  }
  return { options, display: hide(url) };
}

/** The URL with its password (in the authority or the query) replaced by ***. */
export function hide(url: string): string {
  return url.replace(/\/\/([^/@?#]*?):[^/@?#]*@/, '//$1:***@').replace(/([?&]password=)[^&#]*/gi, '$1***');
}

export class RedisLocation {
  /** The URL as given, without its password: safe to print. */
  readonly display: string;
  readonly prefix: string;
  readonly #options: RedisOptions;
  readonly #authkey: Buffer | null;

  constructor(url: string, options: RedisLocationOptions = {}) {
    if (options === null || typeof options !== 'object') throw new TypeError(`redis(url, options): options must be an object, got ${describeValue(options)}`);
    const { authkey: givenKey, prefix: givenPrefix, ...rest } = options;
    refuseUnknownOptions(rest, ['authkey', 'prefix'], 'redis(url, options)');
    const { options: connect, display } = parseRedisUrl(url);
    this.#options = connect;
    this.display = display;
    const prefix = givenPrefix ?? 'multiproc:';
    if (typeof prefix !== 'string') throw new TypeError(`redis(url, { prefix }): prefix must be a string, got ${describeValue(prefix)}`);
    this.prefix = prefix;
    const key = givenKey ?? process.env.MULTIPROC_REDIS_AUTHKEY ?? null;
    if (key !== null && typeof key !== 'string' && !(key instanceof Uint8Array)) {
      throw new TypeError(`redis(url, { authkey }): authkey must be a Buffer or a string, got ${describeValue(key)}`);
    }
    if (key !== null && key.length === 0) throw new TypeError('redis(url, { authkey }): authkey must not be empty');
    this.#authkey = key === null ? null : Buffer.from(key);
  }

  /** The signing key, or null when none was given. */
  get authkey(): Buffer | null {
    return this.#authkey;
  }

  /**
   * A new client. Blocking commands (BLMOVE, BLPOP…) hold their connection, so each role that
   * blocks gets its own. `role` names the connection on the server (CLIENT LIST).
   */
  connect(role: string, extra: RedisOptions = {}): Redis {
    return new Redis({ ...this.#options, connectionName: `multiproc:${role}:${process.pid}`, ...extra });
  }

  toString(): string {
    return `RedisLocation(${this.display})`;
  }

  toJSON(): string {
    return this.display;
  }

  [inspect.custom](): string {
    return this.toString();
  }
}

/** Names a Redis (or Valkey) server for `remoteContext(redis(url))`, the remote classes and the worker command. */
export function redis(url: string, options?: RedisLocationOptions): RedisLocation {
  return new RedisLocation(url, options);
}
