import { AuthenticationError } from '@multiproc/errors';
import type * as Crypto from 'node:crypto';
import type { Connection } from './connection';

/**
 * The connection handshake of Listener/Client (after CPython's deliver_challenge and
 * answer_challenge, HMAC-SHA256 in both directions). The listener opens with a greeting saying
 * whether it authenticates, so a missing key on either side fails on both sides — with
 * AuthenticationError, before any user message is delivered.
 */
const GREETING_AUTH = Buffer.from('#MULTIPROC-AUTH#');
const GREETING_OPEN = Buffer.from('#MULTIPROC-OPEN#');
const CHALLENGE = Buffer.from('#CHALLENGE#');
const WELCOME = Buffer.from('#WELCOME#');
const FAILURE = Buffer.from('#FAILURE#');
const READY = Buffer.from('#READY#');
const MAX = 256;

// node:crypto costs ~3-5 ms to load: loaded at the first handshake, not with the package.
let cryptoModule: typeof Crypto | undefined;
const crypto = (): typeof Crypto => (cryptoModule ??= require('node:crypto') as typeof Crypto);
const digest = (key: Buffer, message: Buffer) => crypto().createHmac('sha256', key).update(message).digest();

async function deliverChallenge(conn: Connection, key: Buffer): Promise<void> {
  const message = Buffer.concat([CHALLENGE, crypto().randomBytes(32)]);
  await conn.sendBytes(message);
  const response = await conn.recvBytes(MAX);
  // Only a Client without a key says FAILURE where its digest should be.
  if (response.equals(FAILURE)) throw new AuthenticationError('the client has no authkey, but this Listener requires one');
  const expected = digest(key, message);
  if (response.length === expected.length && crypto().timingSafeEqual(response, expected)) {
    await conn.sendBytes(WELCOME);
  } else {
    await conn.sendBytes(FAILURE);
    throw new AuthenticationError('the peer answered the challenge with a wrong digest: its authkey differs');
  }
}

async function answerChallenge(conn: Connection, key: Buffer): Promise<void> {
  const message = await conn.recvBytes(MAX);
  if (!message.subarray(0, CHALLENGE.length).equals(CHALLENGE)) throw new AuthenticationError('expected an authentication challenge from the peer');
  await conn.sendBytes(digest(key, message));
  const verdict = await conn.recvBytes(MAX);
  if (!verdict.equals(WELCOME)) throw new AuthenticationError('the peer rejected our digest: its authkey differs');
}

/**
 * The listener's greeting, sent as soon as a connection arrives, before any accept(): a Client
 * without a key needs nothing more, so it resolves once connected, as Python's does.
 */
export async function greet(conn: Connection, key: Buffer | null): Promise<void> {
  await conn.sendBytes(key ? GREETING_AUTH : GREETING_OPEN);
}

/** The listener's side, in accept(), once `greeted` (the greeting sent). Closes the connection and throws on failure. */
export async function serverHandshake(conn: Connection, key: Buffer | null, greeted: Promise<void>): Promise<void> {
  try {
    await greeted;
    if (key) {
      await deliverChallenge(conn, key);
      await answerChallenge(conn, key);
    } else {
      const reply = await conn.recvBytes(MAX);
      if (!reply.equals(READY)) throw new AuthenticationError('the client has an authkey, but this Listener has none');
    }
  } catch (err) {
    conn.close();
    throw asAuthError(err, 'the client went away during the authentication handshake');
  }
}

/** The client's side, on a fresh connection. Closes it and throws on failure. */
export async function clientHandshake(conn: Connection, key: Buffer | null): Promise<void> {
  try {
    const greeting = await conn.recvBytes(MAX);
    if (greeting.equals(GREETING_AUTH)) {
      if (!key) {
        await conn.sendBytes(FAILURE);
        throw new AuthenticationError('the Listener requires an authkey, and this Client has none');
      }
      await answerChallenge(conn, key);
      await deliverChallenge(conn, key);
    } else if (greeting.equals(GREETING_OPEN)) {
      if (key) {
        await conn.sendBytes(FAILURE);
        throw new AuthenticationError('this Client has an authkey, but the Listener does not authenticate');
      }
      await conn.sendBytes(READY);
    } else throw new AuthenticationError('the peer is not a multiproc Listener');
  } catch (err) {
    conn.close();
    throw asAuthError(err, 'the listener went away during the authentication handshake');
  }
}

function asAuthError(err: unknown, eof: string): Error {
  if (err instanceof AuthenticationError) return err;
  return new AuthenticationError(`${eof} (${(err as Error).message})`, { cause: err });
}
