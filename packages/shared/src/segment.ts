import { ProcessError } from '@multiproc/errors';
import { registerRebuilder } from '@multiproc/core';
import { shareBuffer, type BufferReducer } from '@multiproc/core/internal';
import { closeSync, fstatSync, ftruncateSync, openSync } from 'node:fs';
import { native } from './native';

/**
 * Shared memory segments as this process sees them: each mapped once, whatever number of objects
 * and views sit in it, and found again when a view of it arrives from another process.
 *
 * The library's own segments are unnamed (memfd): nothing appears in /dev/shm, and the kernel
 * frees the memory when the last process that maps it ends, SIGKILL included. A process that
 * did not inherit one opens it through a process that holds it, `/proc/<pid>/fd/<fd>`, checked
 * by its inode. Named segments (SharedMemory) are opened by name.
 *
 *     segment: [ header: 64 bytes | data ... ]
 *     header Int32 0: transfers under way (sent, not yet mapped by their receiver)
 */
export const HEADER = 64;
const PENDING = 0;

/** How a receiving process finds a segment. */
export interface SegmentRef {
  dev: number;
  ino: number;
  size: number;
  /** A named segment (SharedMemory): opened by name. */
  name?: string;
  /** An unnamed one: processes that hold it open, [pid, fd], nearest first. */
  holders?: [number, number][];
  /** The segment counts transfers under way in its header (the library's own segments do). */
  counted?: boolean;
}

export interface Segment {
  readonly ref: SegmentRef;
  readonly buffer: ArrayBuffer;
  /** Our fd for it (unnamed segments), kept open so other processes can open it through us. */
  readonly fd: number | null;
}

interface Registry {
  /** `dev:ino` → the segment, while its buffer lives. */
  byKey: Map<string, WeakRef<Segment>>;
  byBuffer: WeakMap<ArrayBuffer, Segment>;
  /** Sent segments whose receivers have not all mapped them yet: kept alive until they have. */
  pinned: Set<Segment>;
}
const registry: Registry = ((globalThis as any)[Symbol.for('multiproc.shared.segments')] ??= {
  byKey: new Map(),
  byBuffer: new WeakMap(),
  pinned: new Set(),
} satisfies Registry);

const keyOf = (ref: { dev: number; ino: number }) => `${ref.dev}:${ref.ino}`;

// A segment nobody here uses any more: its fd closes (the native finalizer unmaps the buffer).
const collected = new FinalizationRegistry<{ key: string; fd: number | null }>(({ key, fd }) => {
  const live = registry.byKey.get(key)?.deref();
  if (!live) registry.byKey.delete(key);
  if (fd !== null) closeQuietly(fd);
});

function adopt(fd: number | null, buffer: ArrayBuffer, ref: SegmentRef): Segment {
  const segment: Segment = { ref, buffer, fd };
  registry.byKey.set(keyOf(ref), new WeakRef(segment));
  registry.byBuffer.set(buffer, segment);
  shareBuffer(buffer, reduceView);
  // The segment object lives as long as its buffer (the WeakMap entry), and no longer.
  collected.register(buffer, { key: keyOf(ref), fd });
  return segment;
}

/** A new unnamed segment with room for `bytes` after its header. */
export function createSegment(bytes: number): Segment {
  const size = HEADER + bytes;
  const fd = native().anonymous();
  try {
    ftruncateSync(fd, size);
    const buffer = native().map(fd, size);
    const { dev, ino } = fstatSync(fd);
    return adopt(fd, buffer, { dev, ino, size, holders: [[process.pid, fd]], counted: true });
  } catch (err) {
    closeQuietly(fd);
    throw err;
  }
}

/** Maps a named segment (SharedMemory): the whole file, `size` bytes. */
export function mapNamed(fd: number, name: string, size: number): Segment {
  const { dev, ino } = fstatSync(fd);
  const existing = registry.byKey.get(keyOf({ dev, ino }))?.deref();
  // Each SharedMemory has its own mapping, as in Python: close() of one leaves the others usable.
  const buffer = native().map(fd, size);
  const segment: Segment = { ref: { dev, ino, size, name }, buffer, fd: null };
  if (!existing) registry.byKey.set(keyOf(segment.ref), new WeakRef(segment));
  registry.byBuffer.set(buffer, segment);
  shareBuffer(buffer, reduceView);
  return segment;
}

export function segmentOf(buffer: ArrayBufferLike): Segment | undefined {
  return registry.byBuffer.get(buffer as ArrayBuffer);
}

/** Names the typed array classes a view may be rebuilt as. */
const VIEWS: Record<string, new (buffer: ArrayBuffer, byteOffset: number, length: number) => ArrayBufferView> = {
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
  DataView: DataView as any,
};

export interface ViewState {
  segment: SegmentRef;
  /** The view's class ('Buffer', 'Float64Array', …), or null for the ArrayBuffer itself. */
  type: string | null;
  byteOffset: number;
  length: number;
}

const VIEW_ID = '@multiproc/shared:view';

/** Views that travel as more than a view (a SharedArray): the rebuilder id and its extra state. */
const decorations = new WeakMap<object, [id: string, state: object]>();

/** `view` travels under `id`: its rebuilder gets `{ view: ViewState, ...state }`, and calls rebuildView. */
export function decorate(view: ArrayBufferView, id: string, state: object): void {
  decorations.set(view, [id, state]);
}

/** How a view of shared memory travels: where its segment is, and which bytes of it. */
const reduceView: BufferReducer = (value) => {
  const isView = ArrayBuffer.isView(value);
  const buffer = (isView ? value.buffer : value) as ArrayBuffer;
  const segment = registry.byBuffer.get(buffer);
  if (!segment || buffer.byteLength === 0) throw new ProcessError('this shared memory was closed in this process, so it cannot be sent');
  const view: ViewState = { segment: outgoing(segment), ...describeView(value) };
  const decoration = decorations.get(value);
  return decoration ? [decoration[0], { ...decoration[1], view }] : [VIEW_ID, view];
};

function describeView(value: ArrayBufferView | ArrayBufferLike): Omit<ViewState, 'segment'> {
  if (!ArrayBuffer.isView(value)) return { type: null, byteOffset: 0, length: value.byteLength };
  const type = Buffer.isBuffer(value) ? 'Buffer' : value.constructor.name;
  const length = value instanceof DataView ? value.byteLength : (value as any).length;
  return { type: VIEWS[type] || type === 'Buffer' ? type : 'Uint8Array', byteOffset: value.byteOffset, length };
}

/** The segment's ref as a receiver needs it; counts the transfer, so we hold it until it is mapped. */
function outgoing(segment: Segment): SegmentRef {
  const { ref } = segment;
  if (ref.name !== undefined) return ref;
  const holders = ref.holders!.filter(([pid]) => pid !== process.pid);
  if (segment.fd !== null) holders.unshift([process.pid, segment.fd]);
  if (ref.counted) {
    Atomics.add(new Int32Array(segment.buffer, 0, 1), PENDING, 1);
    pin(segment);
  }
  return { ...ref, holders };
}

export function rebuildView(state: ViewState): any {
  const segment = incoming(state.segment);
  const { buffer } = segment;
  if (state.type === null) return buffer;
  if (state.type === 'Buffer') return Buffer.from(buffer, state.byteOffset, state.length);
  const View = VIEWS[state.type] ?? Uint8Array;
  return new View(buffer, state.byteOffset, state.length);
}

/** The segment behind a received ref: the one mapped here already, or mapped now. */
export function incoming(ref: SegmentRef): Segment {
  let segment = registry.byKey.get(keyOf(ref))?.deref();
  if (!segment || segment.buffer.byteLength === 0) segment = ref.name !== undefined ? openNamed(ref) : openUnnamed(ref);
  if (ref.counted) Atomics.sub(new Int32Array(segment.buffer, 0, 1), PENDING, 1);
  return segment;
}

function openNamed(ref: SegmentRef): Segment {
  const fd = native().shmOpen(ref.name!, 'attach');
  try {
    const { dev, ino } = fstatSync(fd);
    if (dev !== ref.dev || ino !== ref.ino) throw new ProcessError(`shared memory '${ref.name}' was unlinked, and the name now belongs to another segment`);
    return mapNamed(fd, ref.name!, ref.size);
  } finally {
    closeQuietly(fd);
  }
}

function openUnnamed(ref: SegmentRef): Segment {
  for (const [pid, holderFd] of ref.holders ?? []) {
    let fd: number;
    try {
      fd = openSync(`/proc/${pid}/fd/${holderFd}`, 'r+');
    } catch {
      continue; // that holder has ended (or closed it): try the next
    }
    const { dev, ino } = fstatSync(fd);
    if (dev !== ref.dev || ino !== ref.ino) {
      closeQuietly(fd); // the fd number was reused for something else
      continue;
    }
    try {
      return adopt(fd, native().map(fd, ref.size), { ...ref, holders: [[process.pid, fd], ...ref.holders!] });
    } catch (err) {
      closeQuietly(fd);
      throw err;
    }
  }
  const pids = (ref.holders ?? []).map(([pid]) => pid).join(', ');
  throw new ProcessError(
    `cannot map the shared memory that arrived: every process known to hold it (pid ${pids}) has ended. ` +
      'Keep the process that created it alive until the receivers have it (as Python requires of sharedctypes).',
  );
}

// Sent segments stay alive here until every transfer was mapped (the count in their header is 0),
// checked on a timer that does not keep the process alive.
let sweeper: NodeJS.Timeout | null = null;

function pin(segment: Segment): void {
  registry.pinned.add(segment);
  sweeper ??= setInterval(sweep, 1000).unref();
}

function sweep(): void {
  for (const segment of registry.pinned) {
    if (segment.buffer.byteLength === 0 || Atomics.load(new Int32Array(segment.buffer, 0, 1), PENDING) <= 0) registry.pinned.delete(segment);
  }
  if (!registry.pinned.size && sweeper) {
    clearInterval(sweeper);
    sweeper = null;
  }
}

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // already closed
  }
}

registerRebuilder(VIEW_ID, rebuildView);
