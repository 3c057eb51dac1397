// Every key of one queue: `${prefix}queue:<name>:<part>`. The queue's name and its parts are the
// whole namespace; a consumer's keys carry its id so a reaper can find them from the set.

export interface QueueKeys {
  /** The items waiting, oldest first (a list). */
  items: string;
  /** Its kind and maxsize (a hash): a second process naming the queue joins that queue, not another. */
  meta: string;
  /** Items put and not yet marked done (a JoinableQueue's counter). */
  unfinished: string;
  /** The ids of the consumers that may hold items (a set). */
  consumers: string;
  /** Tokens a blocked consumer waits on (BLPOP): pushed when items arrive; losing or repeating one costs nothing. */
  signal: string;
  /** Where `space` (a get freed room) and `joined` (unfinished reached 0) are published. */
  events: string;
  /** What a consumer's keys start with: `held:<id>`, `alive:<id>`, `state:<id>`. */
  consumer: string;
}

export function queueKeys(prefix: string, name: string): QueueKeys {
  const k = `${prefix}queue:${name}:`;
  return { items: `${k}items`, meta: `${k}meta`, unfinished: `${k}unfinished`, consumers: `${k}consumers`, signal: `${k}signal`, events: `${k}events`, consumer: k };
}

export interface ConsumerKeys {
  /** The items it took and has not acknowledged, oldest first (a list). */
  held: string;
  /** Exists while its heartbeat lasts (a string with an expiry). */
  alive: string;
  /** How many items it has acknowledged in all, and its last take (a hash): a call the client repeats after a reconnect is seen as such. */
  state: string;
}

export function consumerKeys(keys: QueueKeys, id: string): ConsumerKeys {
  return { held: `${keys.consumer}held:${id}`, alive: `${keys.consumer}alive:${id}`, state: `${keys.consumer}state:${id}` };
}
