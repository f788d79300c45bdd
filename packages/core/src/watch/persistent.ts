/**
 * Persistent and persistent-recursive watches (`addWatch`), each a `pwatch` item
 * `<path>␁<session>␁<p|r>` of its own; a Bloom filter of their paths in the writer state
 * (`path-filter.ts`) tells a write which of its path's ancestors to look up.
 *
 * Guarantees kept: a persistent watch stays until removed or its session ends, and fires for every
 * matching change in zxid order (ZooKeeper 3.6+): on the node itself (created, deleted, data
 * changed), as `NodeChildrenChanged` on its parent for a child's create or delete, and on every
 * node below a recursive one. No item grows with the number of watches: a write reads the items
 * of at most its path's depth + 1 paths, and only those the filter may hold.
 */
import { parentOf, ROOT } from '../model/path.js';
import type { PersistentWatch, PersistentWatchMode, WatchClass } from '../protocol/messages.js';
import { DONE } from '../util/async.js';
import type { Chunk } from '../writer/chunk.js';
import type { Txn } from '../writer/txn.js';
import { PERSISTENT_TAG, type PersistentRegistration, pwatchId, pwatchPrefix } from './items.js';
import { buildFilter, mayHold, needsRebuild, withPath } from './path-filter.js';
import { rememberWatchedPath } from './session-watches.js';

/** Adds `session`'s watch on `path` (unchanged if it already holds it) and remembers it in the session. */
export async function addPersistent(
  chunk: Chunk,
  session: number,
  path: string,
  mode: PersistentWatchMode,
): Promise<void> {
  const recursive = mode === 'PERSISTENT_RECURSIVE';
  const id = pwatchId(path, session, recursive);
  if ((await chunk.overlay.get('pwatch', id)) !== undefined) return;
  chunk.overlay.set('pwatch', id, { session, path, recursive } satisfies PersistentRegistration);
  await rememberWatchedPath(chunk, session, `${PERSISTENT_TAG}${path}`);
  const filter = chunk.state.pwatchFilter;
  if (needsRebuild(filter)) {
    // Rare (at each doubling of the filter): every stored watch's path, this one included.
    const all = await chunk.overlay.query<PersistentRegistration>('pwatch', '');
    const paths = new Set(all.map((w) => w.value.path));
    // Never empty: it holds the watch just added.
    chunk.state.pwatchFilter = buildFilter(paths, paths.size) ?? withPath(undefined, path);
  } else if (!mayHold(filter, path)) chunk.state.pwatchFilter = withPath(filter, path);
}

/** Removes `session`'s watches of `classes` (`persistent`, `recursive`) on `path`. */
export async function removePersistent(
  chunk: Chunk,
  session: number,
  path: string,
  classes: readonly WatchClass[],
): Promise<void> {
  for (const recursive of [false, true]) {
    if (!classes.includes(recursive ? 'recursive' : 'persistent')) continue;
    const id = pwatchId(path, session, recursive);
    if ((await chunk.overlay.get('pwatch', id)) !== undefined) chunk.overlay.set('pwatch', id, undefined);
  }
}

/** The watches on `p`: its `pwatch` items, and those of a state written before they were items. */
async function watchesOn(chunk: Chunk, p: string): Promise<PersistentWatch[]> {
  const legacy = (chunk.state.persistentWatches ?? []).filter((w) => w.path === p);
  if (!mayHold(chunk.state.pwatchFilter, p)) return legacy;
  const items = await chunk.overlay.query<PersistentRegistration>('pwatch', pwatchPrefix(p));
  return [...legacy, ...items.map((i) => i.value)];
}

/** Fires the persistent watches a change of `type` on `path` matches. */
export function firePersistent(
  chunk: Chunk,
  path: string,
  type: 'NodeCreated' | 'NodeDeleted' | 'NodeDataChanged',
  txn: Txn,
): Promise<void> {
  // No persistent watch anywhere (the usual case): done without an async frame on every write.
  if (chunk.state.pwatchFilter === undefined && (chunk.state.persistentWatches ?? []).length === 0)
    return DONE;
  return fireMatching(chunk, path, type, txn);
}

async function fireMatching(
  chunk: Chunk,
  path: string,
  type: 'NodeCreated' | 'NodeDeleted' | 'NodeDataChanged',
  txn: Txn,
): Promise<void> {
  const parent = path === ROOT ? undefined : parentOf(path);
  // The path and its ancestors, root first: recursive watches on any of them match, persistent
  // ones on the path itself and (for a create or delete) on its parent.
  const chain: string[] = [];
  for (let p: string | undefined = path; p !== undefined; p = p === ROOT ? undefined : parentOf(p))
    chain.unshift(p);
  for (const p of chain) {
    for (const w of await watchesOn(chunk, p)) {
      if (w.recursive) txn.notify(w.session, type, path, 'recursive');
      else if (p === path) txn.notify(w.session, type, path, 'persistent');
      else if (p === parent && type !== 'NodeDataChanged')
        txn.notify(w.session, 'NodeChildrenChanged', parent, 'persistent');
    }
  }
}

/**
 * Moves persistent watches of a state written before they were items into `pwatch` items, as many
 * as `maxItems` changed items allow (each takes its item and its session's).
 */
export async function migrateLegacyPersistent(chunk: Chunk, maxItems: number): Promise<void> {
  const legacy = [...(chunk.state.persistentWatches ?? [])];
  while (legacy.length > 0 && chunk.overlay.dirtyCount() + 3 <= maxItems) {
    const w = legacy.shift()!;
    chunk.state.persistentWatches = legacy;
    if ((await chunk.overlay.get('session', String(w.session))) === undefined) continue;
    await addPersistent(chunk, w.session, w.path, w.recursive ? 'PERSISTENT_RECURSIVE' : 'PERSISTENT');
  }
  if (legacy.length === 0) delete chunk.state.persistentWatches;
}
