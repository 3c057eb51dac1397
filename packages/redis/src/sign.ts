// HMAC-SHA256 over every task and result message: a shared Redis is a way to inject tasks, so
// only holders of the deployment's authkey can make a worker run one or a caller accept a result.
import { createHmac, timingSafeEqual } from 'node:crypto';

export const MAC_BYTES = 32;

/** What a message is, mixed into its MAC: a signed task cannot pass for a result. */
export type Domain = 'task' | 'result';

export function mac(key: Buffer, domain: Domain, ...parts: Uint8Array[]): Buffer {
  const h = createHmac('sha256', key).update(domain);
  for (const p of parts) h.update(p);
  return h.digest();
}

export function verify(key: Buffer, domain: Domain, tag: Uint8Array, ...parts: Uint8Array[]): boolean {
  return tag.length === MAC_BYTES && timingSafeEqual(tag, mac(key, domain, ...parts));
}
