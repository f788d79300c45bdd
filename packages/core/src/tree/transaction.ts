/**
 * Transactions: one or more tree operations applied under one zxid (a single write, or a multi).
 *
 * Guarantees kept: atomicity — a failing op rolls the overlay back to the point before the
 * transaction, and the requester gets the error (for a multi, per-op results: `OK` before the
 * failing op, its code, `RUNTIMEINCONSISTENCY` after it); linearized writes — each successful
 * transaction takes the next zxid.
 */

import { Perms } from '../acl/model.js';
import { sendsEvents } from '../epoch/pending-events.js';
import { FaaSKeeperError, type MultiErrorResult } from '../model/errors.js';
import { isReserved } from '../model/path.js';
import type {
  DistributorItem,
  MultiOpRequest,
  OpResult,
  ReplyResult,
  Requester,
} from '../protocol/messages.js';
import { deliverableEvents } from '../watch/ended-sessions.js';
import type { Chunk } from '../writer/chunk.js';
import type { Txn } from '../writer/txn.js';
import { emptiedContainer } from './containers.js';
import { create } from './create.js';
import { deleteNode } from './delete.js';
import { type Actor, checkPerm, fail, nodeItem, SYSTEM_ACTOR } from './nodes.js';
import { setData } from './set-data.js';

/** A session closed by a transaction, and how (its client is told on its channel). */
export type ClosedSession = { session: number; state: 'EXPIRED' | 'CLOSED' };

/**
 * Applies `ops` as one transaction with one zxid. On failure nothing changes and the requester (if
 * any) gets the error; on success `result` makes the reply from the per-op results.
 */
export async function transaction(
  chunk: Chunk,
  actor: Actor,
  ops: MultiOpRequest[],
  to: Requester | undefined,
  multi: boolean,
  result?: (results: OpResult[]) => ReplyResult | Promise<ReplyResult>,
): Promise<void> {
  const before = chunk.overlay.checkpoint();
  const txn = chunk.nextTxn();
  const results: OpResult[] = [];
  for (let i = 0; i < ops.length; i++) {
    try {
      results.push(await applyOp(chunk, actor, ops[i]!, txn));
    } catch (error) {
      if (!(error instanceof FaaSKeeperError)) throw error;
      chunk.overlay.rollback(before);
      if (to === undefined) return;
      if (multi) {
        const perOp: MultiErrorResult[] = ops.map((_, j) => ({
          code: j < i ? 'OK' : j === i ? error.code : 'RUNTIMEINCONSISTENCY',
        }));
        chunk.reply(
          to,
          undefined,
          new FaaSKeeperError(error.code, error.message, { path: error.path, results: perOp }),
        );
      } else chunk.reply(to, undefined, error);
      return;
    }
  }
  let reply: (Requester & { result: ReplyResult }) | undefined;
  if (to !== undefined && result !== undefined) {
    // Most replies are made at once (see writer/requests.ts): awaited only when they are not.
    const made = result(results);
    const res = made instanceof Promise ? await made : made;
    // Written out rather than `{ ...to, result }`: a spread with an added field is V8's slow path.
    reply =
      to.inc === undefined
        ? { session: to.session, seq: to.seq, result: res }
        : { session: to.session, seq: to.seq, inc: to.inc, result: res };
  }
  await commitTxn(chunk, txn, reply);
}

/**
 * Records a successful transaction: takes its zxid, notes whether it sent events (`lastEventZxid`), adds it to
 * the chunk's output, then reaps the containers it left empty.
 */
export async function commitTxn(
  chunk: Chunk,
  txn: Txn,
  reply: (Requester & { result: ReplyResult }) | undefined,
  closed?: ClosedSession[],
): Promise<void> {
  chunk.state.zxid = txn.zxid;
  const deliverable = deliverableEvents(chunk, txn.notifications(), closed);
  const events = deliverable instanceof Promise ? await deliverable : deliverable;
  const item: DistributorItem = { type: 'txn', zxid: txn.zxid, writes: [...txn.writes.values()], events };
  if (txn.kids.length > 0) item.kids = [...txn.kids];
  if (reply !== undefined) item.reply = reply;
  if (closed !== undefined) item.closed = closed;
  if (sendsEvents(item)) chunk.state.lastEventZxid = txn.zxid;
  chunk.items.push(item);
  for (const w of txn.writes.values())
    if (emptiedContainer(chunk, w, txn.zxid))
      await transaction(chunk, SYSTEM_ACTOR, [{ op: 'delete', path: w.path, version: -1 }], undefined, false);
}

/** One op of a transaction, each checked against `actor`'s permissions as its single call is. */
async function applyOp(chunk: Chunk, actor: Actor, op: MultiOpRequest, txn: Txn): Promise<OpResult> {
  if (isReserved(op.path)) throw fail('BADARGUMENTS', op.path, `${op.path} is reserved`);
  switch (op.op) {
    case 'create':
      return { op: 'create', path: await create(chunk, actor, op, txn) };
    case 'delete':
      await deleteNode(chunk, op.path, op.version, txn, actor);
      return { op: 'delete' };
    case 'setData':
      return { op: 'setData', stat: await setData(chunk, actor, op.path, op.data, op.version, txn, op) };
    case 'check': {
      const node = (await nodeItem(chunk, op.path))?.node;
      if (node === undefined) throw fail('NONODE', op.path);
      // ZooKeeper 3.8 asks READ of a check: it reveals the node's version.
      checkPerm(actor, node.acl, Perms.READ, op.path);
      if (op.version !== -1 && node.stat.version !== op.version) throw fail('BADVERSION', op.path);
      return { op: 'check' };
    }
  }
}
