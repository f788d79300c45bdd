/**
 * `delete`.
 *
 * Guarantees kept: the node, its parent's new metadata, its owner session's list of ephemerals and
 * the TTL index change in one transaction; every one-shot watch on the node fires (and goes with
 * the item), as do persistent watches on it and its parent.
 */

import { Perms, worldReadable } from '../acl/model.js';
import { baseName, parentOf, ROOT } from '../model/path.js';
import type { SystemNode } from '../protocol/messages.js';
import { removeEphemeral } from '../session/ephemerals.js';
import { fireChildWatches, fireOneShot } from '../watch/one-shot.js';
import { firePersistent } from '../watch/persistent.js';
import type { Chunk } from '../writer/chunk.js';
import type { Txn } from '../writer/txn.js';
import {
  type Actor,
  checkPerm,
  fail,
  nodeItem,
  SYSTEM_ACTOR,
  sequentialCounter,
  setChildStat,
} from './nodes.js';
import { unindexTtl } from './ttl.js';

/**
 * Deletes `path` if `actor` holds DELETE on its parent, it exists, is at `version` (-1: any)
 * and has no children (ZooKeeper 3.8's order of checks).
 */
export async function deleteNode(
  chunk: Chunk,
  path: string,
  version: number,
  txn: Txn,
  // The deployment's own deletes (a session's ephemerals) are not restricted by ACLs.
  actor: Actor = SYSTEM_ACTOR,
): Promise<void> {
  if (path === ROOT) throw fail('BADARGUMENTS', path, 'the root cannot be deleted');
  const parentPath = parentOf(path);
  const parentItem = await nodeItem(chunk, parentPath);
  const parent = parentItem?.node;
  if (parent === undefined) throw fail('NONODE', path);
  // Before the node's own lookup: without DELETE on the parent, ZooKeeper 3.8 answers NOAUTH
  // whether the node exists or not.
  checkPerm(actor, parent.acl, Perms.DELETE, path);
  const item = await nodeItem(chunk, path);
  const node = item?.node;
  if (node === undefined) throw fail('NONODE', path);
  if (version !== -1 && node.stat.version !== version) throw fail('BADVERSION', path);
  if (node.stat.numChildren > 0) throw fail('NOTEMPTY', path);
  await fireOneShot(chunk, txn, item, 'NodeDeleted', path, 'data');
  await fireOneShot(chunk, txn, item, 'NodeDeleted', path, 'children');
  chunk.overlay.set('node', path, undefined);
  // Where the distributor finds the record to remove (the user store's protected zone or not).
  txn.write(worldReadable(node.acl) ? { path, put: false } : { path, put: false, protected: true });
  // The child's index entry of this life gets its tombstone (the parent holds no list).
  txn.kids.push({ parent: parentPath, name: baseName(path), czxid: node.stat.czxid, dzxid: txn.zxid });
  const newParent: SystemNode = {
    ...parent,
    // Kept as it is (a delete does not count), and written down for a node that lacked it.
    createdChildren: sequentialCounter(parent),
    stat: {
      ...parent.stat,
      cversion: parent.stat.cversion + 1,
      pzxid: txn.zxid,
      numChildren: parent.stat.numChildren - 1,
    },
  };
  setChildStat(chunk, parentPath, parentItem!, newParent, txn);
  await fireChildWatches(chunk, parentPath, txn);
  await firePersistent(chunk, path, 'NodeDeleted', txn);
  if (node.stat.ephemeralOwner !== 0) await removeEphemeral(chunk, node.stat.ephemeralOwner, path);
  if (node.kind === 'ttl') await unindexTtl(chunk, path);
}
