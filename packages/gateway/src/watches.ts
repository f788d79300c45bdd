import { type FaaSKeeperClient, isFaaSKeeperError, type WatchedEvent, type Watcher } from '@faaskeeper/core';
import { EventType, WatcherType } from './codes.js';

/** The four classes of server-side watch: data (getData and exists), children, persistent, recursive. */
export type WatchKind = 'data' | 'children' | 'persistent' | 'recursive';
const KINDS: readonly WatchKind[] = ['data', 'children', 'persistent', 'recursive'];

/** The watch kinds a WatcherType (checkWatches, removeWatches) names, as DataTree.removeWatch reads it. */
export function kindsOf(type: number): readonly WatchKind[] | undefined {
  switch (type) {
    case WatcherType.Children:
      return ['children'];
    case WatcherType.Data:
      return ['data'];
    case WatcherType.Any:
      return KINDS;
    case WatcherType.Persistent:
      return ['persistent'];
    case WatcherType.PersistentRecursive:
      return ['recursive'];
    default:
      return undefined;
  }
}

/**
 * One session's watches as a ZooKeeper server keeps them: which (kind, path) the connected
 * client holds. The core client holds one watcher function per kind for the whole session; an
 * event it fires reaches the ZooKeeper client only when the client holds that watch here, and
 * once per change however many of its watches the change fires (the core passes one event
 * object to every watcher it fires for one change).
 *
 * While the client is disconnected the registry is empty (ZooKeeper drops a connection's
 * watches); the core watches stay, but their events are dropped until setWatches re-arms them.
 */
export class WatchRegistry {
  private readonly sets: Record<WatchKind, Set<string>> = {
    data: new Set(),
    children: new Set(),
    persistent: new Set(),
    recursive: new Set(),
  };
  private lastDelivered: WatchedEvent | undefined;
  /** The watcher function given to the core client for each kind. */
  readonly watchers: Record<WatchKind, Watcher>;

  constructor(
    private readonly client: FaaSKeeperClient,
    private readonly deliver: (type: number, path: string) => void,
  ) {
    this.watchers = {
      data: (e) => this.onEvent('data', e),
      children: (e) => this.onEvent('children', e),
      persistent: (e) => this.onEvent('persistent', e),
      recursive: (e) => this.onEvent('recursive', e),
    };
  }

  /** Records that the client holds a `kind` watch on `path`. */
  arm(kind: WatchKind, path: string): void {
    this.sets[kind].add(path);
  }

  /** Forgets the client's `kind` watch on `path` (the core's stays; its events are dropped). */
  disarm(kind: WatchKind, path: string): void {
    this.sets[kind].delete(path);
  }

  /** Forgets every watch (the connection is gone). */
  clear(): void {
    for (const k of KINDS) this.sets[k].clear();
  }

  /** How many watches the client holds. */
  get size(): number {
    return KINDS.reduce((n, k) => n + this.sets[k].size, 0);
  }

  /** The kinds among `kinds` the client holds on `path`. */
  held(path: string, kinds: readonly WatchKind[]): WatchKind[] {
    return kinds.filter((k) => this.sets[k].has(path));
  }

  /**
   * Removes the client's watches of `kinds` on `path` here and in the core.
   * @returns false when there was none (ZooKeeper answers NOWATCHER).
   */
  async remove(path: string, kinds: readonly WatchKind[]): Promise<boolean> {
    const held = this.held(path, kinds);
    for (const kind of held) {
      this.sets[kind].delete(path);
      try {
        await this.client.removeWatches(path, this.watchers[kind], { type: kind });
      } catch (error) {
        // The core watch may already have fired (one-shot) while the client held it here:
        // nothing is left to remove, which is what the client asked for.
        if (!isFaaSKeeperError(error, 'NOWATCHER')) throw error;
      }
    }
    return held.length > 0;
  }

  private onEvent(kind: WatchKind, event: WatchedEvent): void {
    const path = event.path;
    let live: boolean;
    if (kind === 'data' || kind === 'children') live = this.sets[kind].delete(path);
    else if (kind === 'persistent') live = this.sets.persistent.has(path);
    else {
      live = false;
      for (const p of this.sets.recursive)
        if (p === path || p === '/' || path.startsWith(`${p}/`)) live = true;
    }
    if (!live || event === this.lastDelivered) return;
    this.lastDelivered = event;
    this.deliver(EventType[event.type], path);
  }
}
