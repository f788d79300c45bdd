/**
 * The record that closes a distribution in place of the watermark (docs/cost.md "The last record
 * in place of the watermark", docs/guarantees.md "Single system image").
 */
import { worldReadable } from '../acl/model.js';
import type { DistributorBatch, NodeRecord } from '../protocol/messages.js';

/**
 * The path of the record a distributor call writes last, stamped `complete`, instead of moving the
 * watermark; undefined when the call must move the watermark. Every other record, tombstone and
 * stub of the call names it (`closer`) and is written, with every child index entry, before it.
 *
 * A call may close with a record when it applies one batch, not applied before (above `applied`),
 * and one of the records it writes is open and live, written by the batch's last txn (its
 * `txZxid` is the batch's zxid), does not change zone, and — unless it is the only record of the
 * call — belongs to a node that existed before the batch (its `czxid` is below the batch's first
 * txn). A setData closes with its own record; a create and a delete with the parent's.
 *
 * Why a reader may take a `complete` record at zxid Z as the watermark at Z: batches are applied
 * one call after another in zxid order, a call that closes with a record writes it after every
 * other write of the batch, and a call that does not moves the watermark before the next begins;
 * so when the record is in the store, every batch up to Z is in place.
 *
 * Why a reader that met a record R at Z naming closer P may take Z as visible once P's record is
 * at Z or later, or missing: P is written at Z by this call after R, and P existed before the
 * batch, so its record was in the store before the call began (at a zxid below Z). A record at
 * Z or later, or none (a later call deleted P and removed its tombstone), means this call wrote P:
 * every write of batch Z is in place. A record below Z means this call has not reached P yet.
 * A new node cannot close a call of several records: its record missing would mean either.
 *
 * Why only one batch per call: a redelivered batch above the stored watermark is applied again,
 * which is harmless only if no later batch was applied since. A queue hands a batch back before
 * any later one of its group (a FIFO group, an ordered stream; inline, the writer commits the next
 * batch only after distributing this one), but the batches of one call may come back split over
 * calls; a call of several batches therefore moves the watermark, which marks them all applied.
 *
 * Why not on a redelivery (a queue's message received before): the attempt before may have been a
 * call of several batches, which wrote records naming no closer; their readers wait for the
 * watermark, so this call moves it. And a reader waiting for a closer that a call of several
 * batches rewrote (not `complete`, naming no closer itself, written beside the other records)
 * waits for the watermark that call moves (`client/consistent-reader.ts`).
 */
export function closingRecord(
  batches: readonly DistributorBatch[],
  applied: number,
  dirty: ReadonlySet<string>,
  state: ReadonlyMap<string, NodeRecord | null>,
  moved: ReadonlySet<string>,
  redelivered: boolean,
): string | undefined {
  const batch = batches[0];
  if (batches.length !== 1 || batch === undefined || batch.zxid <= applied || redelivered) return undefined;
  let first = batch.zxid;
  for (const item of batch.items) if (item.type === 'txn' && item.zxid < first) first = item.zxid;
  // The last one in write order that may (a create's and a delete's parent come after the child).
  let closer: string | undefined;
  for (const path of dirty) {
    const r = state.get(path) ?? null;
    // At the batch's own zxid: a later txn of the batch that writes nothing to the user store (a
    // session opened) would leave the record short of the batch, and the watermark is written.
    if (r === null || !worldReadable(r.acl) || moved.has(path) || r.txZxid !== batch.zxid) continue;
    if (dirty.size === 1 || r.stat.czxid < first) closer = path;
  }
  return closer;
}
