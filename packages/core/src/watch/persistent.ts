/**
 * Persistent and persistent-recursive watches (`addWatch`), kept in the writer state: they are few
 * per session and every write must match them.
 *
 * Guarantees kept: a persistent watch stays until removed or its session ends, and fires for every
 * matching change in zxid order (ZooKeeper 3.6+): on the node itself (created, deleted, data
 * changed), as `NodeChildrenChanged` on its parent for a child's create or delete, and on every
 * node below a recursive one.
 */
import { parentOf, ROOT } from '../model/path.js';
import type { PersistentWatch, PersistentWatchMode, WatchClass } from '../protocol/messages.js';
import type { Txn } from '../writer/txn.js';

/** The registrations after `session` adds one on `path` (unchanged if it already holds it). */
export function addPersistent(
  watches: readonly PersistentWatch[],
  session: number,
  path: string,
  mode: PersistentWatchMode,
): PersistentWatch[] {
  const recursive = mode === 'PERSISTENT_RECURSIVE';
  const exists = watches.some((w) => w.session === session && w.path === path && w.recursive === recursive);
  return exists ? [...watches] : [...watches, { session, path, recursive }];
}

/** The registrations after `session` removes its ones of `classes` on `path`. */
export function removePersistent(
  watches: readonly PersistentWatch[],
  session: number,
  path: string,
  classes: readonly WatchClass[],
): PersistentWatch[] {
  return watches.filter(
    (w) =>
      !(
        w.session === session &&
        w.path === path &&
        classes.includes(w.recursive ? 'recursive' : 'persistent')
      ),
  );
}

/** The registrations after `session` ended. */
export function dropPersistentOf(watches: readonly PersistentWatch[], session: number): PersistentWatch[] {
  return watches.filter((w) => w.session !== session);
}

/** Fires the persistent watches a change of `type` on `path` matches. */
export function firePersistent(
  watches: readonly PersistentWatch[],
  path: string,
  type: 'NodeCreated' | 'NodeDeleted' | 'NodeDataChanged',
  txn: Txn,
): void {
  if (watches.length === 0) return;
  const parent = path === ROOT ? undefined : parentOf(path);
  for (const w of watches) {
    if (w.recursive) {
      if (w.path === path || w.path === ROOT || path.startsWith(`${w.path}/`))
        txn.notify(w.session, type, path, 'recursive');
    } else if (w.path === path) {
      txn.notify(w.session, type, path, 'persistent');
    } else if (w.path === parent && type !== 'NodeDataChanged') {
      txn.notify(w.session, 'NodeChildrenChanged', parent, 'persistent');
    }
  }
}
