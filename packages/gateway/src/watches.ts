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
  /** Events held until the reply of the read that set their watch is written (ops-watch.ts). */
  private readonly holds: WatchHold[] = [];
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
    // Held events belong to the connection's unwritten replies, which are gone with it.
    this.holds.length = 0;
  }

  /** Holds the events of `kind` on `path` (under it, for `recursive`) until {@link release}. */
  hold(kind: WatchKind, path: string): WatchHold {
    const h: WatchHold = { kind, path, events: [] };
    this.holds.push(h);
    return h;
  }

  /** Ends `hold`: its events are delivered now, in the order they came. */
  release(hold: WatchHold): void {
    const i = this.holds.indexOf(hold);
    if (i < 0) return;
    this.holds.splice(i, 1);
    for (const e of hold.events) this.deliver(e.type, e.path);
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
    const hold = this.holds.find((h) => h.kind === kind && covers(h, path));
    if (hold !== undefined) hold.events.push({ type: EventType[event.type], path });
    else this.deliver(EventType[event.type], path);
  }
}

/** Events of one watch kept back until the reply of the read that set it is written. */
export interface WatchHold {
  readonly kind: WatchKind;
  readonly path: string;
  readonly events: { type: number; path: string }[];
}

/** Whether an event on `path` belongs to the watch `h` holds. */
const covers = (h: WatchHold, path: string): boolean =>
  h.path === path || (h.kind === 'recursive' && (h.path === '/' || path.startsWith(`${h.path}/`)));
