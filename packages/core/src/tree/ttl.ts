/**
 * TTL nodes: the index the heartbeat scans, and their expiry through the writer.
 *
 * Guarantee kept: a TTL node (ZooKeeper's TTL mode) is deleted once it has had no change and no
 * child for its TTL plus the clock-skew margin, as an ordinary delete with its own zxid.
 */
import type { RequestOp } from '../protocol/messages.js';
import type { Chunk } from '../writer/chunk.js';
import { nodeItem, SYSTEM_ACTOR } from './nodes.js';
import { transaction } from './transaction.js';

/** Adds a TTL node to the index the heartbeat lists. */
export async function indexTtl(chunk: Chunk, path: string): Promise<void> {
  await chunk.overlay.get('ttl', path);
  chunk.overlay.set('ttl', path, { path });
}

/** Removes a deleted TTL node from the index. */
export async function unindexTtl(chunk: Chunk, path: string): Promise<void> {
  await chunk.overlay.get('ttl', path);
  chunk.overlay.set('ttl', path, undefined);
}

/**
 * The heartbeat's `expireTtl`: deletes the node if it is still the one the heartbeat saw (same
 * mzxid), still childless, and past its TTL by the writer's own clock.
 */
export async function expireTtl(chunk: Chunk, op: Extract<RequestOp, { type: 'expireTtl' }>): Promise<void> {
  const node = (await nodeItem(chunk, op.path))?.node;
  if (node === undefined || node.kind !== 'ttl' || node.stat.numChildren > 0 || node.stat.mzxid !== op.mzxid)
    return;
  if (node.stat.mtime + (node.ttlMs ?? 0) + chunk.skew >= chunk.clock.now()) return;
  await transaction(chunk, SYSTEM_ACTOR, [{ op: 'delete', path: op.path, version: -1 }], undefined, false);
}
