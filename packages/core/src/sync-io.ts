/**
 * Reading and writing a socket from this thread instead of through the event loop. Python's
 * blocking read(2)/write(2) move big messages about twice as fast as libuv's wake-ups, and its
 * blocking recv() answers sooner than an event-loop turn; a Connection gets both back by doing
 * non-blocking system calls itself while the kernel keeps giving or taking bytes, in stream order
 * with the event loop's (both run on this thread).
 */

/** At most this long in all per message, from this thread. */
const SYNC_MS = 5;
/** How long a step that met EAGAIN waits (spinning, no system call) before it tries again. */
const PAUSE_MS = 0.002;
/** The most event-loop answers a backoff makes wait before the next try from this thread. */
export const MAX_SKIP = 1024;

let spin: boolean | undefined;
/** On one CPU a spin only keeps the peer from answering. node:os (~0.3 ms) loads at the first ask, not with core. */
export function canSpin(): boolean {
  return (spin ??= (require('node:os') as typeof import('node:os')).availableParallelism() > 1);
}

/**
 * Receives of this process waiting on the event loop: while there are any, nobody spins (it
 * would hold them up; a Pool's parent reading many workers).
 */
export const receivesWaiting = { n: 0 };

/**
 * Runs `step` (one non-blocking read or write; false when there is nothing more to do) while the
 * kernel keeps taking or giving bytes. A step that meets EAGAIN is tried again after PAUSE_MS (no
 * system call meanwhile: each EAGAIN is an exception, garbage for the GC), for at most `stallMs`
 * after the last progress and SYNC_MS in all. Any other error ends it: the event loop meets it too.
 */
export function whileFlowing(stallMs: number, step: () => boolean): 'done' | 'stalled' | 'stopped' {
  const traces = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  const start = performance.now();
  let stall = start + stallMs;
  try {
    for (;;) {
      try {
        if (!step()) return 'done';
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') return 'stopped';
        if (pause() < stall) continue;
        return 'stalled';
      }
      const now = performance.now();
      if (now - start > SYNC_MS) return 'stopped';
      stall = now + stallMs;
    }
  } finally {
    Error.stackTraceLimit = traces;
  }
}

/** Waits PAUSE_MS, spinning, and returns the time. */
function pause(): number {
  const until = performance.now() + PAUSE_MS;
  let now: number;
  while ((now = performance.now()) < until);
  return now;
}
