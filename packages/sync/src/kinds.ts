import { allocate } from '@multiproc/shared/internal';

/** The words of each object: one 64-byte line of shared memory, zeroed, seen as 16 Int32s. */
export const WORDS = 16;

export function newLine(): Int32Array {
  const { segment, byteOffset } = allocate(WORDS * 4);
  return new Int32Array(segment.buffer, byteOffset, WORDS);
}

/** Set while an object is made over a line that exists (a received one): not a constructor argument users see. */
let adopting: Int32Array | null = null;

export function over<T>(view: Int32Array, make: () => T): T {
  adopting = view;
  try {
    return make();
  } finally {
    adopting = null;
  }
}

/** The line being adopted, or a new one. */
export function lineFor(): [Int32Array, boolean] {
  const view = adopting;
  adopting = null;
  return view ? [view, true] : [newLine(), false];
}
