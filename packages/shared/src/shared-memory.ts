import { ProcessError } from '@multiproc/errors';
import { reduce, registerRebuilder, type Reduced } from '@multiproc/core';
import { describeValue, refuseUnknownOptions } from '@multiproc/core/internal';
import { closeSync, fstatSync, ftruncateSync } from 'node:fs';
import { native } from './native';
import { mapNamed, type Segment } from './segment';
import { track, untrack } from './tracker';

export interface SharedMemoryOptions {
  /** The segment's name; omitted when creating: a new unique one. */
  name?: string | null;
  /** Create a new segment (its name must be free), or attach to one that exists. */
  create?: boolean;
  /** Bytes, when creating (> 0). */
  size?: number;
  /** Unlink the segment when the process that created it ends, if nobody did (Python 3.13's `track`). */
  track?: boolean;
}

const NAME = /^[A-Za-z0-9_.-]{1,200}$/;

/**
 * Python's `shared_memory.SharedMemory`: a block of memory by name, which any process of the same
 * user can attach to, whether or not this library started it.
 */
export class SharedMemory {
  readonly name: string;
  readonly size: number;
  #segment: Segment | null;
  #buf: Buffer;
  readonly #tracked: boolean;

  constructor(options?: SharedMemoryOptions);
  constructor(name: string | null, create?: boolean, size?: number);
  constructor(nameOrOptions: SharedMemoryOptions | string | null = {}, create?: boolean, size?: number) {
    const where = 'new SharedMemory(options)';
    const opts: SharedMemoryOptions =
      typeof nameOrOptions === 'string' || nameOrOptions === null ? { name: nameOrOptions, create, size } : nameOrOptions;
    if (typeof opts !== 'object' || Array.isArray(opts)) throw new TypeError(`${where}: pass { name, create, size, track } or (name, create, size), got ${describeValue(opts)}`);
    const { name = null, create: creating = false, size: bytes = 0, track: tracking = true, ...rest } = opts;
    refuseUnknownOptions(rest, ['name', 'create', 'size', 'track'], where);
    if (typeof creating !== 'boolean') throw new TypeError(`${where}: create must be true or false, got ${describeValue(creating)}`);
    if (typeof tracking !== 'boolean') throw new TypeError(`${where}: track must be true or false, got ${describeValue(tracking)}`);
    if (name !== null && (typeof name !== 'string' || !NAME.test(name.replace(/^\//, '')))) {
      throw new TypeError(`${where}: name must be a string of letters, digits, '_', '.' and '-' (at most 200), got ${describeValue(name)}`);
    }
    if (name === null && !creating) throw new TypeError(`${where}: name can only be omitted when create is true (it names the segment to attach to)`);
    if (typeof bytes !== 'number' || !Number.isInteger(bytes) || bytes < 0) throw new TypeError(`${where}: size must be an integer ≥ 0 (bytes), got ${describeValue(bytes)}`);
    if (creating && bytes === 0) throw new RangeError(`${where}: size must be > 0 when creating a segment`);
    if (bytes > Number.MAX_SAFE_INTEGER) throw new RangeError(`${where}: size ${bytes} is over the largest this platform can map`);

    const n = native();
    // node:crypto costs ~4 ms to load: only a new unnamed segment needs it.
    this.name = (name ?? `psm_${(require('node:crypto') as typeof import('node:crypto')).randomBytes(8).toString('hex')}`).replace(/^\//, '');
    const fd = n.shmOpen(this.name, creating ? 'create' : 'attach');
    try {
      if (creating) ftruncateSync(fd, bytes);
      this.size = creating ? bytes : fstatSync(fd).size;
      if (this.size === 0) throw new ProcessError(`shared memory '${this.name}' has size 0: nothing to map`);
      this.#segment = mapNamed(fd, this.name, this.size);
    } catch (err) {
      if (creating) n.shmUnlink(this.name);
      throw err;
    } finally {
      closeSync(fd);
    }
    this.#buf = Buffer.from(this.#segment.buffer, 0, this.size);
    this.#tracked = creating && tracking;
    if (this.#tracked) track(this.name, n.shmUnlink);
  }

  /** The whole block, zero-copy. Empty once `close()` was called. */
  get buf(): Buffer {
    return this.#buf;
  }

  /** Unmaps the block in this process (every view of it becomes empty); the segment stays. */
  close(): void {
    if (!this.#segment) return;
    native().unmap(this.#segment.buffer);
    this.#segment = null;
    this.#buf = Buffer.alloc(0);
  }

  /** Removes the name: no process can attach any more; the memory goes when the last one unmaps it. */
  unlink(): void {
    try {
      native().shmUnlink(this.name);
    } finally {
      untrack(this.name);
    }
  }

  /** Travels by name, as Python pickles it: the receiver attaches (and does not track). */
  [reduce](): Reduced {
    return ['@multiproc/shared:SharedMemory', { name: this.name }];
  }

  toString(): string {
    return `SharedMemory('${this.name}', size=${this.size})`;
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
}

registerRebuilder('@multiproc/shared:SharedMemory', ({ name }) => new SharedMemory({ name, track: false }));
