/**
 * One-shot watches, server side: the registrations a read with a watch leaves (`getData`/`exists`
 * as data watches, `getChildren` as child watches).
 *
 * Guarantees kept: a watch is set atomically with its read (the registration is written in the
 * writer's zxid order, and the distributor answers the read as of that point); a registration
 * fires at most once, at the first change of its class after it; no item grows with the number of
 * watchers.
 *
 * Layout. The first {@link INLINE_WATCHERS} registrations of a class sit in the node item itself
 * (`dataWatches`/`childWatches`): a watch on a quiet node costs what it always did. Past them, the
 * node item opens a *generation* (`dataWatchGen`/`childWatchGen`, the writer's zxid when it opened)
 * and each further registration is a `watch` item `<path>␁<class>␁<gen>␁<session>` of its own. A
 * fire notifies the inline sessions and the generation's items (one paged query: the M events are
 * the fire's own cost), and clears both from the node item in the same transaction. The M items are
 * not deleted there (a transaction holds at most 100 items on DynamoDB): once the node item no
 * longer names their generation they are dead — nothing reads or fires them — and a `cleanup` item
 * for the generation has the writer delete them in later commits, a bounded number per commit.
 * A generation is never reused: it is a zxid at least as new as any change of the path, and every
 * earlier generation of the path was opened at an older zxid and closed by a later change.
 */
import type { ReadWatchKind, SystemNodeItem, WatchEventType } from '../protocol/messages.js';
import { fail, nodeItem } from '../tree/nodes.js';
import { DONE } from '../util/async.js';
import type { Chunk } from '../writer/chunk.js';
import type { Txn } from '../writer/txn.js';
import {
  cleanupId,
  FIRED_PREFIX,
  type FiredGeneration,
  type OneShotClass,
  type WatchRegistration,
  watchId,
  watchPrefix,
} from './items.js';
import { rememberWatchedPath } from './session-watches.js';

/** Registrations of one class kept in the node item before they overflow into items. */
export const INLINE_WATCHERS = 8;

const listOf = (cls: OneShotClass) => (cls === 'data' ? 'dataWatches' : 'childWatches');
const genOf = (cls: OneShotClass) => (cls === 'data' ? 'dataWatchGen' : 'childWatchGen');

/** `item` without its registrations of `cls` (after they fired). */
export function withoutWatches(item: SystemNodeItem, cls: OneShotClass): SystemNodeItem {
  // Most writes find no registration: the item as it is (callers replace items, never change them).
  // `delete` also turns an object into a slow dictionary, which every later spread of it pays for.
  if (item[listOf(cls)] === undefined && item[genOf(cls)] === undefined) return item;
  const next = { ...item };
  delete next[listOf(cls)];
  delete next[genOf(cls)];
  return next;
}

/** Whether `item` holds no registration of any class (nor a node): it can go. */
const holdsNothing = (item: SystemNodeItem): boolean =>
  item.node === undefined &&
  item.dataWatches === undefined &&
  item.childWatches === undefined &&
  item.dataWatchGen === undefined &&
  item.childWatchGen === undefined;

/**
 * Sends `type` on `path` to every session holding a `cls` registration in `item` (inline, then the
 * open generation's items), and queues the generation's items for removal. The caller writes the
 * node item without them ({@link withoutWatches}) in the same transaction.
 */
export function fireOneShot(
  chunk: Chunk,
  txn: Txn,
  item: SystemNodeItem | undefined,
  type: WatchEventType,
  path: string,
  cls: OneShotClass,
): Promise<void> {
  const inline = item?.[listOf(cls)];
  if (inline !== undefined) for (const s of inline) txn.notify(s, type, path, cls);
  const gen = item?.[genOf(cls)];
  // Most nodes have no overflowed registrations: done without an async frame (every write fires).
  if (gen === undefined) return DONE;
  return fireGeneration(chunk, txn, type, path, cls, gen);
}

/** Fires the registrations of `path`'s open generation `gen`, kept as items, and queues their removal. */
async function fireGeneration(
  chunk: Chunk,
  txn: Txn,
  type: WatchEventType,
  path: string,
  cls: OneShotClass,
  gen: number,
): Promise<void> {
  for (const r of await chunk.overlay.query<WatchRegistration>('watch', watchPrefix(path, cls, gen)))
    txn.notify(r.value.session, type, path, cls);
  const fired: FiredGeneration = { path, cls, gen };
  await chunk.overlay.get('cleanup', cleanupId(fired));
  chunk.overlay.set('cleanup', cleanupId(fired), fired);
  chunk.state.firedGenerations = (chunk.state.firedGenerations ?? 0) + 1;
}

/** Fires (and clears) the child watches of `path`, whose children just changed. */
export async function fireChildWatches(chunk: Chunk, path: string, txn: Txn): Promise<void> {
  const current = chunk.overlay.peek<SystemNodeItem>('node', path)!;
  if (current.childWatches === undefined && current.childWatchGen === undefined) return;
  await fireOneShot(chunk, txn, current, 'NodeChildrenChanged', path, 'children');
  chunk.overlay.set('node', path, withoutWatches(current, 'children'));
}

/**
 * Registers `session`'s one-shot watch of `kind` on `path` (an `exists` watch on a missing path
 * keeps an item with no node), and remembers the path in the session for its close.
 * @throws FaaSKeeperError NONODE for a data or child watch on a missing node.
 */
export async function registerOneShot(
  chunk: Chunk,
  session: number,
  path: string,
  kind: ReadWatchKind,
): Promise<void> {
  const item = await nodeItem(chunk, path);
  if (item?.node === undefined && kind !== 'exists') throw fail('NONODE', path);
  const cls: OneShotClass = kind === 'children' ? 'children' : 'data';
  const list = listOf(cls);
  const current = item ?? {};
  const inline = current[list] ?? [];
  if (inline.includes(session)) {
    await rememberWatchedPath(chunk, session, path);
    return;
  }
  const open = current[genOf(cls)];
  if (open === undefined && inline.length < INLINE_WATCHERS) {
    chunk.overlay.set('node', path, { ...current, [list]: [...inline, session] });
  } else {
    const gen = open ?? chunk.state.zxid;
    if (open === undefined) chunk.overlay.set('node', path, { ...current, [genOf(cls)]: gen });
    const id = watchId(path, cls, gen, session);
    if ((await chunk.overlay.get('watch', id)) === undefined)
      chunk.overlay.set('watch', id, { session } satisfies WatchRegistration);
  }
  await rememberWatchedPath(chunk, session, path);
}

/** Removes `session`'s one-shot registrations of `classes` on `path`; an item left empty goes. */
export async function dropOneShot(
  chunk: Chunk,
  session: number,
  path: string,
  classes: readonly OneShotClass[] | readonly string[],
): Promise<void> {
  const item = await nodeItem(chunk, path);
  if (item === undefined) return;
  let next: SystemNodeItem = item;
  for (const cls of ['data', 'children'] as const) {
    if (!classes.includes(cls)) continue;
    const list = listOf(cls);
    const inline = next[list];
    if (inline?.includes(session)) {
      next = { ...next, [list]: inline.filter((s) => s !== session) };
      if (next[list]!.length === 0) delete next[list];
    }
    const gen = next[genOf(cls)];
    if (gen !== undefined) {
      const id = watchId(path, cls, gen, session);
      if ((await chunk.overlay.get('watch', id)) !== undefined) chunk.overlay.set('watch', id, undefined);
    }
  }
  if (next === item) return;
  // An item that only held watches goes with its last one (never while a generation is open: its
  // items would outlive the item that names them).
  chunk.overlay.set('node', path, holdsNothing(next) ? undefined : next);
}

/** Cleanup items and dead registrations read per step: a commit deletes at most ~100 anyway. */
const CLEANUP_PAGE = 100;

/**
 * Deletes registrations of fired generations (`cleanup` items), as many as `maxItems` changed
 * items allow; a generation's cleanup item goes with its last registration.
 */
export async function removeFiredGenerations(chunk: Chunk, maxItems: number): Promise<void> {
  let done = 0;
  while ((chunk.state.firedGenerations ?? 0) > 0 && chunk.overlay.dirtyCount() + 2 <= maxItems) {
    // The first page may hold generations this call already removed (not yet committed).
    const [next] = await chunk.overlay.query<FiredGeneration>('cleanup', FIRED_PREFIX, done + 1);
    if (next === undefined) {
      // Counted but none stored: nothing is left to remove (the count is only a hint that saves a
      // query per batch when there is nothing to do).
      if (done === 0) delete chunk.state.firedGenerations;
      return;
    }
    const g = next.value;
    // Room for the cleanup item's own deletion. One page per commit: the next page starts after
    // the items this commit deletes, which the store still holds until it commits.
    const limit = Math.min(maxItems - chunk.overlay.dirtyCount() - 1, CLEANUP_PAGE);
    const dead = await chunk.overlay.query<WatchRegistration>(
      'watch',
      watchPrefix(g.path, g.cls, g.gen),
      limit,
    );
    for (const r of dead) chunk.overlay.set('watch', r.id, undefined);
    // A full page: there may be more, for the next commit.
    if (dead.length >= limit) return;
    chunk.overlay.set('cleanup', next.id, undefined);
    done++;
    const left = (chunk.state.firedGenerations ?? 1) - 1;
    if (left > 0) chunk.state.firedGenerations = left;
    else delete chunk.state.firedGenerations;
  }
}
