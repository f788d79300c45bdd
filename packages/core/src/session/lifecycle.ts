/**
 * Opening a session, and admitting each of its requests: renewal and de-duplication by `seq`.
 *
 * Guarantees kept: FIFO client order and at-most-once application — the writer remembers the
 * highest `seq` applied per session (`lastSeq`, committed with the request) and drops a request at
 * or below it; sessions — every admitted request renews the session's deadline in the same
 * transaction (an idle session renews its lease instead, see `lease.ts`), and a request of a
 * session that is gone is answered `SESSIONEXPIRED`; a request of a replaced incarnation of the
 * session (see `resume.ts`) is dropped unapplied.
 */

import { FaaSKeeperError } from '../model/errors.js';
import type { RequestOp, SessionItem, WriteRequest } from '../protocol/messages.js';
import { endingSession } from '../watch/ended-sessions.js';
import type { Chunk } from '../writer/chunk.js';
import { channelKey, decodeSessionKey, wrapChannelKey } from './auth.js';
import { openLease } from './lease.js';
import { currentIncarnation, incarnationOf } from './resume.js';

/** Opens the session `request` names, unless its id is taken. */
export async function openSession(
  chunk: Chunk,
  request: WriteRequest,
  op: Extract<RequestOp, { type: 'openSession' }>,
): Promise<void> {
  const to = { session: request.session, seq: request.seq };
  const sid = String(request.session);
  const now = chunk.clock.now();
  const session = await chunk.overlay.get<SessionItem>('session', sid);
  const inUse = () =>
    chunk.reply(
      to,
      undefined,
      new FaaSKeeperError('BADARGUMENTS', 'BADARGUMENTS: session id already in use'),
    );
  if (session !== undefined) {
    // A redelivered open of this very session is a duplicate; a later one is another client's.
    if (request.seq > session.lastSeq) inUse();
    return;
  }
  // An ended session's watches may still be being removed: its id is not free until then.
  if (await endingSession(chunk, request.session)) {
    inUse();
    return;
  }
  const created: SessionItem = {
    id: request.session,
    timeoutMs: op.timeoutMs,
    expiresAt: now + op.timeoutMs,
    lastSeq: request.seq,
    ephemerals: [],
    watchPaths: [],
    key: op.key,
  };
  chunk.overlay.set('session', sid, created);
  await openLease(chunk, created, now);
  chunk.reply(to, { type: 'session', timeoutMs: op.timeoutMs, ...channelKeyFor(chunk, created) });
}

/**
 * The session's channel key, wrapped for its client, as the open and resume replies carry it
 * (session/auth.ts); nothing when the deployment does not seal channels.
 */
export function channelKeyFor(chunk: Chunk, session: SessionItem): { key?: string } {
  const secret = chunk.auth.channelSecret;
  if (secret === undefined || session.key === undefined) return {};
  return {
    key: wrapChannelKey(decodeSessionKey(session.key), session.id, channelKey(secret, session.id)),
  };
}

/**
 * Admits a request of an open session: renews the session and uses up its `seq` (its `ack`
 * no longer matters to ordered notifications: see `epoch/`). Returns false when the request is not to be applied: a duplicate (dropped:
 * it was applied and answered before), or its session is gone (answered `SESSIONEXPIRED`).
 */
export async function admit(chunk: Chunk, request: WriteRequest): Promise<boolean> {
  const sid = String(request.session);
  const now = chunk.clock.now();
  // Loaded by the batch's prefetch as a rule: then read without a promise.
  const current = chunk.overlay.current<SessionItem>('session', sid);
  const session = current instanceof Promise ? await current : current;
  if (session === undefined) {
    chunk.reply(
      { session: request.session, seq: request.seq },
      undefined,
      new FaaSKeeperError('SESSIONEXPIRED', 'SESSIONEXPIRED: the session has expired'),
    );
    return false;
  }
  // A request of a replaced incarnation (the client a resume took the session from): refused
  // without effect, without renewing the session and without using up its seq, which the current
  // incarnation numbers on from. Its channel is gone (told MOVED), so no answer goes there.
  if (incarnationOf(request) !== currentIncarnation(session)) return false;
  if (request.seq <= session.lastSeq) return false;
  chunk.overlay.set('session', sid, { ...session, lastSeq: request.seq, expiresAt: now + session.timeoutMs });
  return true;
}

/**
 * Uses up the `seq` of a request answered without being applied (refused as malformed or over a
 * limit): a session's seqs reach the writer without gaps (GCP's push order guard waits for
 * lastSeq + 1), and a redelivery of it is then a duplicate. Returns false for a request of a
 * replaced incarnation (`inc`), whose seq is not the session's: it is to be dropped unanswered.
 */
export async function useUpSeq(chunk: Chunk, session: number, seq: number, inc = 0): Promise<boolean> {
  const s = await chunk.overlay.get<SessionItem>('session', String(session));
  if (s !== undefined && inc !== currentIncarnation(s)) return false;
  if (s !== undefined && seq > s.lastSeq)
    chunk.overlay.set('session', String(session), { ...s, lastSeq: seq });
  return true;
}
