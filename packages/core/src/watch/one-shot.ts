/**
 * One-shot watches, server side: the registrations a read with a watch leaves (`getData`/`exists`
 * as data watches, `getChildren` as child watches), kept in the watched node's system-store item.
 *
 * Guarantees kept: a watch is set atomically with its read (the registration is written in the
 * writer's zxid order, and the distributor answers the read as of that point); a registration
 * fires at most once — it is removed in the same transaction that fires it.
 */
import type { ReadWatchKind, SystemNodeItem, WatchClass, WatchEventType } from '../protocol/messages.js';
import { fail, nodeItem } from '../tree/nodes.js';
import type { Chunk } from '../writer/chunk.js';
import type { Txn } from '../writer/txn.js';
import { rememberWatchedPath } from './session-watches.js';

/** Sends `type` on `path` to each of `sessions`, as a fire of their `cls` registrations. */
export function fireOneShot(
  txn: Txn,
  sessions: readonly number[] | undefined,
  type: WatchEventType,
  path: string,
  cls: WatchClass,
): void {
  for (const s of sessions ?? []) txn.notify(s, type, path, cls);
}

/** Fires (and clears) the child watches of `path`, whose children just changed. */
export function fireChildWatches(chunk: Chunk, path: string, txn: Txn): void {
  const current = chunk.overlay.peek<SystemNodeItem>('node', path)!;
  if (current.childWatches === undefined || current.childWatches.length === 0) return;
  fireOneShot(txn, current.childWatches, 'NodeChildrenChanged', path, 'children');
  const { childWatches: _, ...rest } = current;
  chunk.overlay.set('node', path, rest);
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
  const list = kind === 'children' ? 'childWatches' : 'dataWatches';
  const current = item ?? {};
  if (!(current[list] ?? []).includes(session))
    chunk.overlay.set('node', path, { ...current, [list]: [...(current[list] ?? []), session] });
  await rememberWatchedPath(chunk, session, path);
}

/** Removes `session`'s one-shot registrations of `classes` on `path`; an item left empty goes. */
export async function dropOneShot(
  chunk: Chunk,
  session: number,
  path: string,
  classes: readonly WatchClass[],
): Promise<void> {
  const item = await nodeItem(chunk, path);
  if (item === undefined) return;
  const next: SystemNodeItem = { ...item };
  if (classes.includes('data') && item.dataWatches?.includes(session))
    next.dataWatches = item.dataWatches.filter((s) => s !== session);
  if (classes.includes('children') && item.childWatches?.includes(session))
    next.childWatches = item.childWatches.filter((s) => s !== session);
  if (next.dataWatches?.length === 0) delete next.dataWatches;
  if (next.childWatches?.length === 0) delete next.childWatches;
  if (next.dataWatches === item.dataWatches && next.childWatches === item.childWatches) return;
  // An item that only held watches goes with its last one.
  chunk.overlay.set(
    'node',
    path,
    next.node === undefined && next.dataWatches === undefined && next.childWatches === undefined
      ? undefined
      : next,
  );
}
