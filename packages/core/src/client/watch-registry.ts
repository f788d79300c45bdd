/*
 * The client's watches (docs/guarantees.md "Ordered notifications"): a one-shot watcher fires at
 * most once per registration, a persistent one on every event until removed, and no event reaches a
 * watcher after `removeWatches` returned. The writer holds the matching registrations; the channel
 * says which classes an event fires, and this registry turns that into the watchers to call.
 */

import { FaaSKeeperError } from '../model/errors.js';
import { ROOT } from '../model/path.js';
import type { WatchClass } from '../protocol/messages.js';
import type { RemoveWatchType, WatchedEvent, Watcher } from './types.js';

const CLASSES: readonly WatchClass[] = ['data', 'children', 'persistent', 'recursive'];

type WatchSets = Record<WatchClass, Set<Watcher>>;

/** The watchers a client holds, per path and class. */
export class WatchRegistry {
  private readonly watches = new Map<string, WatchSets>();

  /** Registers `watcher` on `path` in class `cls` (a set: the same function twice is one registration). */
  add(path: string, cls: WatchClass, watcher: Watcher): void {
    let sets = this.watches.get(path);
    if (sets === undefined) {
      sets = { data: new Set(), children: new Set(), persistent: new Set(), recursive: new Set() };
      this.watches.set(path, sets);
    }
    sets[cls].add(watcher);
  }

  /**
   * Calls the watchers an event reaches: on its path, those of the classes it fires (one-shot
   * ones are removed first, so they fire once), and recursive watchers on the path or above it.
   * A watcher that throws does not stop the others; its error goes to `onError`.
   */
  fire(event: WatchedEvent, classes: readonly WatchClass[], onError: (error: unknown) => void): void {
    const targets = new Set<Watcher>();
    const sets = this.watches.get(event.path);
    if (sets !== undefined) {
      if (classes.includes('data')) {
        for (const w of sets.data) targets.add(w);
        sets.data.clear();
      }
      if (classes.includes('children')) {
        for (const w of sets.children) targets.add(w);
        sets.children.clear();
      }
      if (classes.includes('persistent')) for (const w of sets.persistent) targets.add(w);
    }
    if (classes.includes('recursive')) {
      for (const [p, s] of this.watches) {
        if (s.recursive.size > 0 && (p === event.path || p === ROOT || event.path.startsWith(`${p}/`)))
          for (const w of s.recursive) targets.add(w);
      }
    }
    for (const w of targets) {
      try {
        w(event);
      } catch (error) {
        onError(error);
      }
    }
  }

  /**
   * Removes `watcher` (or every watcher) of the classes `type` names from `path`.
   * @returns the classes left with no watcher on `path` by this removal: the writer must drop
   *   the session's registrations of exactly those.
   * @throws FaaSKeeperError NOWATCHER when nothing of those classes matched.
   */
  remove(path: string, watcher: Watcher | undefined, type: RemoveWatchType): WatchClass[] {
    const sets = this.watches.get(path);
    const emptied: WatchClass[] = [];
    let removed = false;
    if (sets !== undefined) {
      for (const cls of type === 'any' ? CLASSES : [type]) {
        const set = sets[cls];
        if (set.size === 0) continue;
        if (watcher === undefined) {
          set.clear();
          removed = true;
        } else if (set.delete(watcher)) removed = true;
        if (set.size === 0) emptied.push(cls);
      }
      if (CLASSES.every((cls) => sets[cls].size === 0)) this.watches.delete(path);
    }
    if (!removed) {
      const what = type === 'any' ? 'watch' : `${type} watch`;
      throw new FaaSKeeperError('NOWATCHER', `NOWATCHER: no ${what} on ${path}`, { path });
    }
    return emptied;
  }

  /** Whether any watcher is registered: only then can the session be owed a watch event. */
  holdsWatches(): boolean {
    for (const sets of this.watches.values()) if (CLASSES.some((cls) => sets[cls].size > 0)) return true;
    return false;
  }

  /** Drops every watcher (the session ended: none of them will fire). */
  clear(): void {
    this.watches.clear();
  }
}
