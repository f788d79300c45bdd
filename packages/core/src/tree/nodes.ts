/**
 * Shared pieces of the tree operations: errors, node items, and the sequential counter.
 *
 * Guarantee kept: the system store's node items are the authoritative tree; every change of a
 * node's metadata is written to its item (keeping its watch registrations) and recorded in the
 * transaction for the distributor, so both stores hold the same Stat.
 */
import { type ErrorCode, FaaSKeeperError } from '../model/errors.js';
import type { Stat } from '../model/stat.js';
import type { SystemNode, SystemNodeItem } from '../protocol/messages.js';
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

/** Writes a node whose metadata changed, keeping its watch registrations. */
export function setNode(chunk: Chunk, path: string, item: SystemNodeItem, node: SystemNode, txn: Txn): void {
  const current = chunk.overlay.peek<SystemNodeItem>('node', path) ?? item;
  chunk.overlay.set('node', path, { ...current, node });
  txn.write({ path, put: true, stat: { ...node.stat }, children: [...node.children] });
}

/**
 * How many children were ever created under a node: ZooKeeper 3.8's sequential counter. Every
 * child create and delete bumps `cversion` once, so creations - deletions = numChildren and
 * creations = (cversion + numChildren) / 2 — the count ZooKeeper keeps (it reports cversion as
 * 2 * creations - numChildren). Derived, so nodes written before the counter existed need no
 * migration.
 */
export function childCreations(stat: Stat): number {
  return (stat.cversion + stat.numChildren) / 2;
}
