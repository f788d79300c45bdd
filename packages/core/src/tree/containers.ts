/**
 * Containers (ZooKeeper's CONTAINER mode).
 *
 * Guarantee kept: a container that had children and lost its last one is deleted right after the
 * transaction that emptied it, in a transaction of its own (ZooKeeper reaps them the same way, as a
 * separate delete).
 */
import { ROOT } from '../model/path.js';
import type { NodeWrite, SystemNodeItem } from '../protocol/messages.js';
import type { Chunk } from '../writer/chunk.js';

/**
 * Whether the node `write` recorded is a container that the transaction `zxid` left empty. Asked
 * write by write, after the reaps before it (a reap changes its parent).
 */
export function emptiedContainer(chunk: Chunk, write: NodeWrite, zxid: number): boolean {
  if (!write.put || write.path === ROOT) return false;
  const node = chunk.overlay.peek<SystemNodeItem>('node', write.path)?.node;
  return (
    node?.kind === 'container' &&
    node.stat.numChildren === 0 &&
    node.stat.cversion > 0 &&
    node.stat.pzxid === zxid
  );
}
