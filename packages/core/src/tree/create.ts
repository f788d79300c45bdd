/**
 * `create`, in every mode (persistent, ephemeral, sequential, container, TTL).
 *
 * Guarantees kept: a node and its parent's new metadata change in one transaction; a sequential
 * node's suffix is the number of children ever created under its parent (ZooKeeper 3.8), so names
 * are unique and increasing; an ephemeral node is listed in its session's item, so it goes with
 * the session.
 */
import { fixupAcl } from '../acl/check.js';
import { isOpenAcl, Perms } from '../acl/model.js';
import { modeTraits } from '../model/create-mode.js';
import { MAX_DATA_BYTES } from '../model/limits.js';
import { baseName, parentOf, ROOT, sequenceSuffix } from '../model/path.js';
import type { Stat } from '../model/stat.js';
import type { MultiOpRequest, SystemNode } from '../protocol/messages.js';
import { addEphemeral } from '../session/ephemerals.js';
import { fireChildWatches, fireOneShot } from '../watch/one-shot.js';
import { firePersistent } from '../watch/persistent.js';
import type { Chunk } from '../writer/chunk.js';
import type { Txn } from '../writer/txn.js';
import {
  type Actor,
  aclField,
  checkPerm,
  fail,
  newData,
  nodeItem,
  sequentialCounter,
  setChildStat,
} from './nodes.js';
import { indexTtl } from './ttl.js';

/**
 * Creates the node `op` asks for; returns its path (with the suffix, if sequential). Checks in
 * ZooKeeper 3.8's order: the ACL (INVALIDACL), the parent (NONODE), CREATE on the parent (NOAUTH),
 * then the node itself.
 */
export async function create(
  chunk: Chunk,
  actor: Actor,
  op: Extract<MultiOpRequest, { op: 'create' }>,
  txn: Txn,
): Promise<string> {
  const session = actor.session;
  const traits = modeTraits(op.mode, op.ttlMs);
  if (op.data.byteLength > MAX_DATA_BYTES) throw fail('BADARGUMENTS', op.path, 'data over 1 MiB');
  const acl =
    op.acl === undefined ? undefined : fixupAcl(op.path, op.acl, actor.ids === 'system' ? [] : actor.ids);
  if (op.path === ROOT) throw fail('NODEEXISTS', op.path);
  if (traits.kind === 'ephemeral' && session === 0)
    throw fail('BADARGUMENTS', op.path, 'ephemeral nodes need a session');
  const parentPath = parentOf(op.path);
  const parentItem = await nodeItem(chunk, parentPath);
  const parent = parentItem?.node;
  if (parent === undefined) throw fail('NONODE', parentPath, 'parent does not exist');
  checkPerm(actor, parent.acl, Perms.CREATE, op.path);
  if (parent.kind === 'ephemeral') throw fail('NOCHILDRENFOREPHEMERALS', parentPath);
  const path = traits.sequential ? op.path + sequenceSuffix(sequentialCounter(parent)) : op.path;
  const item = await nodeItem(chunk, path);
  if (item?.node !== undefined) throw fail('NODEEXISTS', path);
  const z = txn.zxid;
  const stat: Stat = {
    czxid: z,
    mzxid: z,
    pzxid: z,
    ctime: txn.time,
    mtime: txn.time,
    version: 0,
    cversion: 0,
    aversion: 0,
    ephemeralOwner: traits.kind === 'ephemeral' ? session : 0,
    dataLength: op.data.byteLength,
    numChildren: 0,
  };
  const node: SystemNode = { stat, kind: traits.kind };
  if (traits.kind === 'ttl') node.ttlMs = op.ttlMs!;
  if (acl !== undefined && !isOpenAcl(acl)) node.acl = acl;
  // The created node's exists/data watchers fire, and the registration item goes.
  await fireOneShot(chunk, txn, item, 'NodeCreated', path, 'data');
  chunk.overlay.set('node', path, { node });
  txn.write({
    path,
    put: true,
    stat: { ...stat },
    ...newData(op.data, op),
    ...aclField(node.acl),
  });
  // The child list is not in the parent: the new child is an index entry of its own.
  txn.kids.push({ parent: parentPath, name: baseName(path), czxid: z });
  const newParent: SystemNode = {
    ...parent,
    createdChildren: sequentialCounter(parent) + 1,
    stat: {
      ...parent.stat,
      cversion: parent.stat.cversion + 1,
      pzxid: z,
      numChildren: parent.stat.numChildren + 1,
    },
  };
  setChildStat(chunk, parentPath, parentItem!, newParent, txn);
  await fireChildWatches(chunk, parentPath, txn);
  await firePersistent(chunk, path, 'NodeCreated', txn);
  if (traits.kind === 'ephemeral') await addEphemeral(chunk, session, path);
  if (traits.kind === 'ttl') await indexTtl(chunk, path);
  return path;
}
