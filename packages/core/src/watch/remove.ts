/**
 * Removing watches: `removeWatches` by a client, and all of a session's at its close.
 *
 * Guarantee kept: a removed or ended registration never fires.
 */
import type { SessionItem, WatchClass } from '../protocol/messages.js';
import type { Chunk } from '../writer/chunk.js';
import { nodeKey } from '../writer/keys.js';
import { dropOneShot } from './one-shot.js';
import { dropPersistentOf, removePersistent } from './persistent.js';
import { watchedPaths } from './session-watches.js';

/** Removes `session`'s registrations of `classes` on `path` (ZooKeeper's `removeWatches`). */
export async function removeWatches(
  chunk: Chunk,
  session: number,
  path: string,
  classes: readonly WatchClass[],
): Promise<void> {
  if (classes.includes('persistent') || classes.includes('recursive'))
    chunk.state.persistentWatches = removePersistent(chunk.state.persistentWatches, session, path, classes);
  if (classes.includes('data') || classes.includes('children'))
    await dropOneShot(chunk, session, path, classes);
}

/** Loads the items a session's close will change to remove its watches. */
export async function prefetchSessionWatches(chunk: Chunk, session: SessionItem): Promise<void> {
  await chunk.overlay.prefetch(watchedPaths(session).map(nodeKey));
}

/** Removes every registration of the ending `session`. */
export async function dropSessionWatches(chunk: Chunk, session: SessionItem): Promise<void> {
  for (const p of watchedPaths(session)) await dropOneShot(chunk, session.id, p, ['data', 'children']);
  chunk.state.persistentWatches = dropPersistentOf(chunk.state.persistentWatches, session.id);
}
