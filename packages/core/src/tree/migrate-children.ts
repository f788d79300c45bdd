/**
 * Migration of a deployment written before children became their own entries (layout 1: a child
 * list in every node item and record) to the child index (docs/scale.md, "Migration").
 *
 * Guarantee kept: after it, every node's children are in the user store's index, one live entry per
 * child at its czxid, so getChildren answers what the old records' lists said. It is idempotent (a
 * rerun writes the same entries) and must run while no writer commits (the deployment's functions
 * stopped): an entry written for a child that a concurrent delete removes would outlive it.
 */
import { baseName, parentOf } from '../model/path.js';
import type { SystemStore } from '../ports/system-store.js';
import type { UserStore } from '../ports/user-store.js';
import type { ChildEntry, SystemNodeItem } from '../protocol/messages.js';
import { mapLimit } from '../util/map-limit.js';

/**
 * Writes the user store's child index from the system store's node items (each node under its
 * parent, at its czxid). Returns how many entries it wrote.
 */
export async function migrateChildIndex(
  systemStore: SystemStore,
  userStore: UserStore,
  options: { concurrency?: number } = {},
): Promise<number> {
  const entries: ChildEntry[] = [];
  for (const item of await systemStore.list<SystemNodeItem>('node')) {
    const node = item.value.node;
    if (node === undefined || item.id === '/') continue;
    entries.push({ parent: parentOf(item.id), name: baseName(item.id), czxid: node.stat.czxid });
  }
  await mapLimit(entries, options.concurrency ?? 16, (e) => userStore.putChild(e));
  return entries.length;
}
