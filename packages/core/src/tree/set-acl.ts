/**
 * `setACL`.
 *
 * Guarantees kept: a node's ACL changes only for a session holding ADMIN on it, at the expected
 * `aversion` (-1: any), in a transaction of its own that bumps `aversion` and nothing else (no data,
 * no mzxid, no watch fires: ZooKeeper 3.8 does the same); both stores get the new ACL.
 */
import { fixupAcl } from '../acl/check.js';
import { isOpenAcl, Perms, worldReadable } from '../acl/model.js';
import type { Stat } from '../model/stat.js';
import type { ACL, SystemNode } from '../protocol/messages.js';
import type { Chunk } from '../writer/chunk.js';
import type { Txn } from '../writer/txn.js';
import { type Actor, aclField, checkPerm, fail, nodeItem, withoutChildList } from './nodes.js';

/**
 * Replaces the ACL of `path`; returns the new Stat. Checks in ZooKeeper 3.8's order: the ACL
 * (INVALIDACL), the node (NONODE), ADMIN (NOAUTH), the aversion (BADVERSION).
 */
export async function setAcl(
  chunk: Chunk,
  actor: Actor,
  path: string,
  acl: readonly ACL[],
  version: number,
  txn: Txn,
): Promise<Stat> {
  const fixed = fixupAcl(path, acl, actor.ids === 'system' ? [] : actor.ids);
  const item = await nodeItem(chunk, path);
  const node = item?.node;
  if (node === undefined) throw fail('NONODE', path);
  checkPerm(actor, node.acl, Perms.ADMIN, path);
  if (version !== -1 && node.stat.aversion !== version) throw fail('BADVERSION', path);
  const stat: Stat = { ...node.stat, aversion: node.stat.aversion + 1 };
  const { acl: _old, ...rest } = node;
  const kept = withoutChildList(rest);
  const next: SystemNode = isOpenAcl(fixed) ? { ...kept, stat } : { ...kept, stat, acl: fixed };
  chunk.overlay.set('node', path, { ...item!, node: next });
  // No data in the write: the distributor keeps the record's data, null or not.
  // A change between world-readable and not moves the record between the user store's zones.
  const moved = worldReadable(node.acl) !== worldReadable(next.acl);
  txn.write({ path, put: true, stat: { ...stat }, ...aclField(next.acl), ...(moved ? { moved: true } : {}) });
  return { ...stat };
}
