import { createSegment, HEADER, type Segment } from './segment';

/**
 * Small objects (values, small arrays, and the locks of @multiproc/sync) share segments, each
 * object on its own 64-byte lines: a segment per object would cost a mapping each (a process
 * has ~65,000) and ~13 µs. Bigger ones get a segment of their own. Arenas live as long as their
 * process: what is in them is never freed (as with Python's, a block is small).
 */
const ARENA_BYTES = 64 * 1024;
export const LINE = 64;
/** Bigger than this, an array gets a segment of its own. */
export const OWN_SEGMENT_BYTES = 16 * 1024;

export interface Block {
  segment: Segment;
  /** Where the block starts in the segment's buffer (a multiple of LINE). */
  byteOffset: number;
}

const arenas: Segment[] = [];
let current: Segment | null = null;
let used = 0;

/** `bytes` of zeroed shared memory, on lines of their own. */
export function allocate(bytes: number): Block {
  const size = Math.max(LINE, Math.ceil(bytes / LINE) * LINE);
  if (size > OWN_SEGMENT_BYTES) return { segment: createSegment(size), byteOffset: HEADER };
  if (!current || used + size > ARENA_BYTES) {
    current = createSegment(ARENA_BYTES);
    arenas.push(current);
    used = 0;
  }
  const block = { segment: current, byteOffset: HEADER + used };
  used += size;
  return block;
}
