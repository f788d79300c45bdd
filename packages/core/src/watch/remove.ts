/**
 * `removeWatches`: a client removes its registrations on a path.
 *
 * Guarantee kept: a removed registration never fires.
 */
import type { WatchClass } from '../protocol/messages.js';
import type { Chunk } from '../writer/chunk.js';
import { dropOneShot } from './one-shot.js';
import { removePersistent } from './persistent.js';

/** Removes `session`'s registrations of `classes` on `path` (ZooKeeper's `removeWatches`). */
export async function removeWatches(
  chunk: Chunk,
  session: number,
  path: string,
  classes: readonly WatchClass[],
): Promise<void> {
  if (classes.includes('persistent') || classes.includes('recursive')) {
    await removePersistent(chunk, session, path, classes);
    // A watch of a state written before persistent watches were items.
    if (chunk.state.persistentWatches !== undefined)
      chunk.state.persistentWatches = chunk.state.persistentWatches.filter(
        (w) =>
          !(
            w.session === session &&
            w.path === path &&
            classes.includes(w.recursive ? 'recursive' : 'persistent')
          ),
      );
  }
  if (classes.includes('data') || classes.includes('children'))
    await dropOneShot(chunk, session, path, classes);
}
