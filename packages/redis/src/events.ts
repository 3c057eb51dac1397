// A queue's events channel, for a process that waits for one: `space` (a get freed room in a
// bounded queue) or `joined` (a JoinableQueue's last task was marked done). Messages can be missed
// (a reconnect), so a waiter also looks again after at most POLL_MS: an event only makes it sooner.
import type Redis from 'ioredis';
import { open } from './clients';
import type { RedisLocation } from './location';

const POLL_MS = 1000;

export class Events {
  #sub: Redis | null = null;
  #ready: Promise<void> | null = null;
  #waiters = new Set<() => void>();

  constructor(
    readonly location: RedisLocation,
    readonly channel: string,
  ) {}

  /** Subscribed: an event published after this resolves is seen (look at the state after it, then wait). */
  subscribed(): Promise<void> {
    if (this.#ready) return this.#ready;
    const sub = (this.#sub = open(this.location, 'events', { maxRetriesPerRequest: null }));
    sub.on('message', () => {
      for (const wake of [...this.#waiters]) wake();
    });
    return (this.#ready = sub.subscribe(this.channel).then(() => undefined));
  }

  /** Resolves at the next event, after `ms` (at most POLL_MS), or when cancelled. */
  next(ms: number | null): { promise: Promise<void>; cancel(): void } {
    let wake!: () => void;
    const promise = new Promise<void>((resolve) => (wake = resolve));
    const timer = setTimeout(() => done(), Math.max(0, Math.min(ms ?? POLL_MS, POLL_MS)));
    const done = () => {
      clearTimeout(timer);
      this.#waiters.delete(done);
      wake();
    };
    this.#waiters.add(done);
    return { promise, cancel: done };
  }

  close(): void {
    for (const wake of [...this.#waiters]) wake();
    this.#sub?.disconnect();
    this.#sub = null;
    this.#ready = null;
  }
}
