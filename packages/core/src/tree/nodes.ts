/**
 * Shared pieces of the tree operations: errors, node items, and the sequential counter.
 *
 * Guarantee kept: the system store's node items, with the writer state's child Stats laid over
 * them (`writer/child-stats.ts`), are the authoritative tree; every change of a node's metadata is
 * written to its item (keeping its watch registrations) or, a parent's child Stat, to the writer
 * state, and recorded in the transaction for the distributor, so both stores hold the same Stat.
 */

import { requirePerm } from '../acl/check.js';
import { isOpenAcl } from '../acl/model.js';
import { type ErrorCode, FaaSKeeperError } from '../model/errors.js';
import type { ACL, Id, NullDataFlag, SystemNode, SystemNodeItem } from '../protocol/messages.js';
import { deferChildStat } from '../writer/child-stats.js';
import type { Chunk } from '../writer/chunk.js';
import type { Txn } from '../writer/txn.js';

/** The error a failed operation answers with (ZooKeeper's code, and the path it concerns). */
export const fail = (code: ErrorCode, path: string, detail?: string): FaaSKeeperError =>
  new FaaSKeeperError(code, detail === undefined ? `${code}: ${path}` : `${code}: ${detail}: ${path}`, {
    path,
  });

/** A node's item as the chunk sees it (after the chunk's changes so far). */
export function nodeItem(chunk: Chunk, path: string): Promise<SystemNodeItem | undefined> {
  return chunk.overlay.get<SystemNodeItem>('node', path);
}

/**
 * The new data of a node as its {@link Txn.write} carries it: the bytes, plus the null flag only
 * when the data is null (so that the common case adds nothing to the distributor's messages).
 */
export function newData(data: Uint8Array, flag: NullDataFlag): { data: Uint8Array } & NullDataFlag {
  return flag.nullData === true ? { data, nullData: true } : { data };
}

/**
 * Records a create's or delete's change of its parent `node` (only its child Stat and sequential
 * counter differ from `item`): in the writer state rather than the parent's item
 * (`writer/child-stats.ts`), and in the transaction for the distributor, so that the parent's
 * record gets the whole new Stat.
 */
export function setChildStat(
  chunk: Chunk,
  path: string,
  item: SystemNodeItem,
  node: SystemNode,
  txn: Txn,
): void {
  deferChildStat(chunk, path, item, node);
  txn.write({ path, put: true, stat: { ...node.stat }, ...aclField(node.acl) });
}

/**
 * `node` without the child list that items written before children became their own entries
 * (layout 1) carry: the list is never read, and dropping it as the item is rewritten keeps every
 * later write of the node independent of its number of children.
 */
export function withoutChildList(node: SystemNode): SystemNode {
  if (node.children === undefined) return node;
  const { children: _dropped, ...rest } = node;
  return rest;
}

/**
 * Who applies a transaction: a client session with the identities it authenticated, or the
 * deployment itself (`'system'`: the heartbeat's expiries, container reaps, a session's
 * ephemerals), which ACLs do not restrict.
 */
export interface Actor {
  session: number;
  ids: readonly Id[] | 'system';
}

/** The deployment's own actor (session 0). */
export const SYSTEM_ACTOR: Actor = Object.freeze({ session: 0, ids: 'system' });

/** @throws FaaSKeeperError NOAUTH unless `actor` holds one of the bits `perm` on a node with `acl`. */
export function checkPerm(actor: Actor, acl: readonly ACL[] | undefined, perm: number, path: string): void {
  if (actor.ids !== 'system') requirePerm(acl, actor.ids, perm, path);
}

/**
 * A node's ACL as a {@link Txn.write} carries it: on every put of a node with an ACL other than
 * OPEN_ACL_UNSAFE, so the user-store record always holds the node's current ACL.
 */
export function aclField(acl: ACL[] | undefined): { acl?: ACL[] } {
  return acl === undefined || isOpenAcl(acl)
    ? {}
    : { acl: acl.map((e) => ({ perms: e.perms, id: { ...e.id } })) };
}

/**
 * The sequential counter of a node: how many children were ever created under it (ZooKeeper 3.8
 * names `/q/n-` by this count; its reported cversion, 2 * creations - numChildren, also counts
 * deletes). Kept in the system store as `createdChildren`; a node written before it was kept
 * counts on from its cversion — the suffix the former rule would have given next, so no new name
 * meets one given before. A node without deletes has cversion = creations, so the root of a fresh
 * deployment (written by the bootstrap, without the field) is exact from its first child on.
 */
export function sequentialCounter(node: SystemNode): number {
  return node.createdChildren ?? node.stat.cversion;
}
