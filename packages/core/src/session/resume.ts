/**
 * Handing a session over to another client (a ZooKeeper client that reconnected through another
 * gateway process): the session's incarnation.
 *
 * Guarantees kept: the session itself — its id, ephemerals, watch registrations and lease — stays;
 * FIFO order and at-most-once — the resumer continues from the `lastSeq` it is answered, and every
 * request of an older incarnation is refused (SESSIONMOVED) by {@link admit} without effect and
 * without using up a seq, so the two clients' numberings never interleave; replies and events go
 * to the current incarnation's channel only (`WriterState.incarnations`, handed to the distributor
 * as `routes`); the replaced incarnation is told MOVED, and its client then removes its channel
 * (the session's close removes those of incarnations whose client never did).
 */
import { FaaSKeeperError } from '../model/errors.js';
import type { RequestOp, SessionItem, WriteRequest, WriterState } from '../protocol/messages.js';
import type { Chunk } from '../writer/chunk.js';
import { leaseIdOf } from './lease.js';
import { channelKeyFor } from './lifecycle.js';

/** How many replaced incarnations a session remembers (a redelivery comes within a few batches). */
const MAX_REPLACED = 16;

/** The incarnation `request` was sent by (0: the client that opened the session). */
export const incarnationOf = (request: WriteRequest): number => request.inc ?? 0;

/** The incarnation serving `session` now. */
export const currentIncarnation = (session: SessionItem): number => session.incarnation ?? 0;

/**
 * Makes `op.incarnation` the session's incarnation and answers it with the `lastSeq` it continues
 * from. A redelivered resume of the incarnation already current is answered again; a session that
 * is gone is answered SESSIONEXPIRED (on the resumer's channel).
 */
export async function resumeSession(
  chunk: Chunk,
  request: WriteRequest,
  op: Extract<RequestOp, { type: 'resumeSession' }>,
): Promise<void> {
  const to = { session: request.session, seq: request.seq };
  const sid = String(request.session);
  const session = await chunk.overlay.get<SessionItem>('session', sid);
  if (session === undefined) {
    // The answer names the resumer's channel: no session routes there.
    chunk.reply(
      { ...to, inc: op.incarnation },
      undefined,
      new FaaSKeeperError('SESSIONEXPIRED', 'SESSIONEXPIRED: the session has expired'),
    );
    return;
  }
  // A redelivered resume of an incarnation replaced since (a retried batch applied again): its
  // client was told MOVED already; handing the session back to it would take it from the current one.
  if (session.replaced?.includes(op.incarnation) === true) return;
  const from = currentIncarnation(session);
  if (from !== op.incarnation) {
    const now = chunk.clock.now();
    chunk.overlay.set('session', sid, {
      ...session,
      incarnation: op.incarnation,
      replaced: [...(session.replaced ?? []), from].slice(-MAX_REPLACED),
      expiresAt: now + session.timeoutMs,
    });
    // The resume is a sign of life: the lease restarts from now (the replaced client stops renewing).
    await chunk.overlay.get('lease', leaseIdOf(session));
    chunk.overlay.set('lease', leaseIdOf(session), now);
    chunk.state = withIncarnation(chunk.state, request.session, op.incarnation);
    chunk.items.push({
      type: 'moved',
      zxid: chunk.state.zxid,
      session: request.session,
      from,
      to: op.incarnation,
    });
  }
  chunk.reply(to, {
    type: 'resumed',
    timeoutMs: session.timeoutMs,
    lastSeq: session.lastSeq,
    ...channelKeyFor(chunk, session),
  });
}

/** `state` with `session` served by `incarnation` (a new object: chunk snapshots share the old). */
export function withIncarnation(
  state: WriterState,
  session: number,
  incarnation: number | undefined,
): WriterState {
  const incarnations = { ...state.incarnations };
  if (incarnation === undefined || incarnation === 0) delete incarnations[String(session)];
  else incarnations[String(session)] = incarnation;
  const { incarnations: _old, ...rest } = state;
  return Object.keys(incarnations).length === 0 ? rest : { ...rest, incarnations };
}
