/** The lone record that stands in for the watermark (docs/cost.md "A lone record in place of the watermark"). */
import { worldReadable } from '../acl/model.js';
import type { DistributorBatch, NodeRecord } from '../protocol/messages.js';

/**
 * The path of the one record a distributor call writes when that record can stand in for the watermark,
 * else undefined. It can when the call applies one batch, not applied before (above the stored
 * watermark), whose only user-store write is one open, live record written by the batch's last
 * txn: no tombstone, no child index entry, no stub and protected record, no zone change. That record is stamped `complete`, and the
 * watermark is not written (a 1 KiB setData: one write unit, or one S3/GCS PUT, less).
 *
 * Why readers may take a `complete` record at zxid Z as the watermark at Z: batches are applied one
 * call after another in zxid order, and a call that writes more than one record moves the stored
 * watermark before the next call begins; so when the record is in the store, every batch before
 * Z has been applied whole, and Z's batch is that record alone. The stored watermark lags behind
 * (up to the next call that writes it), and stays a lower bound: records above it are either
 * `complete` or of a call still under way, which will move it.
 *
 * Why only one batch per call: a redelivered batch above the stored watermark is applied again,
 * which is harmless only if no later batch was applied since. A queue hands a batch back before
 * any later one of its group (a FIFO group, an ordered stream; inline, the writer commits the next
 * batch only after distributing this one), but the batches of one call may come back split over
 * calls; a call of several batches therefore moves the watermark, which marks them all applied.
 */
export function soloRecord(
  batches: readonly DistributorBatch[],
  applied: number,
  dirty: ReadonlySet<string>,
  state: ReadonlyMap<string, NodeRecord | null>,
  indexWrites: number,
): string | undefined {
  if (batches.length !== 1 || batches[0]!.zxid <= applied) return undefined;
  if (dirty.size !== 1 || indexWrites > 0) return undefined;
  const [path] = dirty;
  const r = state.get(path!) ?? null;
  // At the batch's own zxid: a later txn of the batch that writes nothing to the user store (a
  // session opened) would leave the record short of the batch, and the watermark is written.
  return r !== null && worldReadable(r.acl) && r.txZxid === batches[0]!.zxid ? path : undefined;
}
