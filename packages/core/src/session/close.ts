/**
 * Ending a session: closed by its client, or expired by the heartbeat.
 *
 * Guarantee kept: an ephemeral node lives exactly as long as its session — the close deletes every
 * ephemeral of the session in one transaction (one zxid, firing their watches like any delete),
 * ends its watches (see `watch/ended-sessions.ts`), removes its item and
 * its lease, and tells its client (CLOSED or EXPIRED). Expiry waits for the deadline plus the clock-skew margin by
 * the writer's own clock. However many ephemerals the session has, the close stays one transaction:
 * past the store's items per transaction, the writer commits its node and session writes through
 * its redo log and only the lease (and watch items) in the transaction (`writer/redo-log.ts`
 * `splitLog`); the bytes of one batch bound it instead (≈ 2,400 ephemerals of 8-byte names on AWS).
 */
import { parentOf } from '../model/path.js';
import type { Requester, RequestOp, SessionItem, SystemNodeItem } from '../protocol/messages.js';
import { deleteNode } from '../tree/delete.js';
import { commitTxn } from '../tree/transaction.js';
import { endSessionWatches } from '../watch/ended-sessions.js';
import type { Chunk } from '../writer/chunk.js';
import { nodeKey } from '../writer/keys.js';
import { dropLease, groupOf, leaseIdOf, sessionDeadline, verifiedRenewal } from './lease.js';
import { foldedRenewal, LEASE_FOLD_ID } from './lease-inbox.js';

/** Ends `session` in one transaction; `to` (a client's close) gets the reply. */
export async function closeSession(
  chunk: Chunk,
  session: number,
  how: 'EXPIRED' | 'CLOSED',
  to: Requester | undefined,
): Promise<void> {
  const sid = String(session);
  const s = (await chunk.overlay.get<SessionItem>('session', sid))!;
  const paths = [...s.ephemerals];
  await chunk.overlay.prefetch(paths.flatMap((p) => [nodeKey(p), nodeKey(parentOf(p))]));
  const txn = chunk.nextTxn();
  for (const p of paths) {
    const node = (await chunk.overlay.get<SystemNodeItem>('node', p))?.node;
    if (node !== undefined && node.stat.ephemeralOwner === session) await deleteNode(chunk, p, -1, txn);
  }
  await endSessionWatches(chunk, s);
  chunk.overlay.set('session', sid, undefined);
  await dropLease(chunk, s);
  // The route to a resumed session's channel outlives this chunk's output (its CLOSED or EXPIRED
  // notice goes there): the writer drops it when it commits the chunk (`Chunk.output`).
  chunk.endedRoutes.add(session);
  // Channels of incarnations it replaced that their clients did not remove (never told MOVED).
  if (s.replaced !== undefined && s.replaced.length > 0)
    chunk.items.push({ type: 'retired', zxid: chunk.state.zxid, session, incarnations: [...s.replaced] });
  await commitTxn(chunk, txn, to === undefined ? undefined : { ...to, result: { type: 'closeSession' } }, [
    { session, state: how },
  ]);
}

/**
 * The heartbeat's `expireSession`: ends the session unless it was renewed (by a request, by its
 * lease — its own or its group's — or by a renewal the heartbeat folded) or ended meanwhile. The
 * lease is read here, and its removal is committed on the version read, so a renewal that lands
 * between this check and the commit fails the commit (the writer retries the batch and sees it).
 */
export async function expireSession(
  chunk: Chunk,
  op: Extract<RequestOp, { type: 'expireSession' }>,
): Promise<void> {
  const session = await chunk.overlay.get<SessionItem>('session', String(op.target));
  if (session === undefined) return;
  // Read under the ids only the session key gives (lease.ts): items other clients wrote under any
  // other id are never read here.
  const lease = await chunk.overlay.get('lease', leaseIdOf(session));
  const group = groupOf(session, lease);
  const groupAt = group === undefined ? undefined : await chunk.overlay.get('lease', group.id);
  const folded = foldedRenewal(await chunk.overlay.get('meta', LEASE_FOLD_ID), op.target);
  // Only a renewal its owner signed counts (lease.ts): a forged or unsigned one is none.
  const renewed = verifiedRenewal(session, lease, () => groupAt);
  if (sessionDeadline(session, renewed, folded) + chunk.skew >= chunk.clock.now()) return;
  // A member of a group lease: the expiry is committed on the group item's version too (written
  // back unchanged), so that a group renewal landing before the commit fails it, as a session's own
  // renewal does.
  if (group !== undefined && groupAt !== undefined) chunk.overlay.set('lease', group.id, groupAt);
  await closeSession(chunk, op.target, 'EXPIRED', undefined);
}
