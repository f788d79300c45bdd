/**
 * `setData`.
 *
 * Guarantees kept: optimistic concurrency — the version is checked against the system store's
 * (authoritative) copy in the transaction that writes it; the node's data watches fire once and
 * their registrations go in the same transaction.
 */

import { Perms } from '../acl/model.js';
import { MAX_DATA_BYTES } from '../model/limits.js';
import { copyStat, type Stat, statAfterWrite } from '../model/stat.js';
import type { NullDataFlag, SystemNodeItem } from '../protocol/messages.js';
import { DONE } from '../util/async.js';
import { fireOneShot, withoutWatches } from '../watch/one-shot.js';
import { firePersistent } from '../watch/persistent.js';
import type { Chunk } from '../writer/chunk.js';
import type { Txn } from '../writer/txn.js';
import { type Actor, aclField, checkPerm, fail, newData, withoutChildList } from './nodes.js';

/**
 * Replaces the data of `path` if `actor` holds WRITE on it and it is at `version` (-1: any); returns the new Stat. `flag` says
 * whether the new data is null: the write replaces the old flag either way (bytes clear it).
 */
export async function setData(
  chunk: Chunk,
  actor: Actor,
  path: string,
  data: Uint8Array,
  version: number,
  txn: Txn,
  flag: NullDataFlag,
): Promise<Stat> {
  if (data.byteLength > MAX_DATA_BYTES) throw fail('BADARGUMENTS', path, 'data over 1 MiB');
  // Loaded by the batch's prefetch as a rule; the fires below have nothing to wait for unless a
  // watch is kept in items of its own: neither costs a microtask turn then.
  const current = chunk.overlay.current<SystemNodeItem>('node', path);
  const item = current instanceof Promise ? await current : current;
  const node = item?.node;
  if (node === undefined) throw fail('NONODE', path);
  checkPerm(actor, node.acl, Perms.WRITE, path);
  if (version !== -1 && node.stat.version !== version) throw fail('BADVERSION', path);
  const stat = statAfterWrite(node.stat, txn.zxid, txn.time, data.byteLength);
  const fired = fireOneShot(chunk, txn, item, 'NodeDataChanged', path, 'data');
  if (fired !== DONE) await fired;
  chunk.overlay.set('node', path, {
    ...withoutWatches(item!, 'data'),
    node: { ...withoutChildList(node), stat },
  });
  txn.write({
    path,
    put: true,
    stat: copyStat(stat),
    ...newData(data, flag),
    ...aclField(node.acl),
  });
  const persistent = firePersistent(chunk, path, 'NodeDataChanged', txn);
  if (persistent !== DONE) await persistent;
  return copyStat(stat);
}
