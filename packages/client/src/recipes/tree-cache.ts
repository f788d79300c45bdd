import { EventEmitter } from 'node:events';
import {
  type FaaSKeeperClient,
  FaaSKeeperError,
  isFaaSKeeperError,
  type Stat,
  type WatchedEvent,
  type Watcher,
} from '../index.js';
import { join } from './util.js';

/** One node as the cache holds it. */
export interface CachedNode {
  data: Uint8Array;
  stat: Stat;
}

/** What changed in the cache (Curator's NODE_ADDED / NODE_UPDATED / NODE_REMOVED). */
export interface TreeCacheEvent {
  type: 'added' | 'updated' | 'removed';
  path: string;
  /** The node as cached now (absent for `removed`). */
  node?: CachedNode;
}

interface Entry extends CachedNode {
  children: Set<string>;
}

const parentOf = (path: string) => path.slice(0, path.lastIndexOf('/')) || '/';

/**
 * A local copy of a subtree kept current by one persistent recursive watch (in the spirit of
 * Apache Curator's `TreeCache`, with ZooKeeper 3.6's `addWatch` instead of a watch per node).
 *
 * `start()` adds a `PERSISTENT_RECURSIVE` watch on the root, then loads the subtree. Each event
 * is applied in the order the client received it: NodeCreated reads the node (and any children it
 * already has), NodeDataChanged reads its data again, NodeDeleted drops it and its subtree. A read
 * can be newer than the event that caused it (a node changed twice); the later event reads again,
 * so the cache converges to the service's state and never goes back in time (the client's reads
 * are monotonic).
 *
 * Events: `changed` for every node added, updated or removed; `initialized` once the first load is
 * done; `error` when a read fails (the cache may then be stale until the next event on that node).
 * The cache stops following changes when the session ends.
 */
export class TreeCache extends EventEmitter<{
  changed: [TreeCacheEvent];
  initialized: [];
  error: [unknown];
}> {
  private readonly nodes = new Map<string, Entry>();
  private queue: Promise<void> = Promise.resolve();
  private started = false;
  private closed = false;
  private readonly watcher: Watcher = (event) => this.enqueue(() => this.apply(event));

  /** A cache of the subtree at `root`. */
  constructor(
    private readonly zk: FaaSKeeperClient,
    readonly root: string,
  ) {
    super();
  }

  /**
   * Starts following the subtree; resolves once the initial load is in the cache.
   * @throws FaaSKeeperError APIERROR when started twice.
   */
  async start(): Promise<void> {
    if (this.started)
      throw new FaaSKeeperError('APIERROR', `APIERROR: tree cache ${this.root} already started`);
    this.started = true;
    // Watch first, then load: every change after the load's reads arrives as an event.
    await this.zk.addWatch(this.root, this.watcher, 'PERSISTENT_RECURSIVE');
    const loaded = this.enqueue(() => this.load(this.root));
    await loaded;
    this.emit('initialized');
  }

  /** The cached node at `path`, or undefined. */
  get(path: string): CachedNode | undefined {
    const e = this.nodes.get(path);
    return e === undefined ? undefined : { data: e.data, stat: e.stat };
  }

  /** The cached node's data as UTF-8 text, or undefined. */
  getString(path: string): string | undefined {
    const e = this.nodes.get(path);
    return e === undefined ? undefined : new TextDecoder().decode(e.data);
  }

  /** The cached children names of `path` (sorted), or undefined when the node is not cached. */
  children(path: string): string[] | undefined {
    const e = this.nodes.get(path);
    return e === undefined ? undefined : [...e.children].sort();
  }

  /** Every cached path, sorted. */
  paths(): string[] {
    return [...this.nodes.keys()].sort();
  }

  /** Resolves once every event received so far is applied. */
  async flush(): Promise<void> {
    await this.queue;
  }

  /** Stops following changes (removes the watch) and empties the cache. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.nodes.clear();
    if (!this.started || this.zk.state === 'EXPIRED' || this.zk.state === 'CLOSED') return;
    try {
      await this.zk.removeWatches(this.root, this.watcher);
    } catch (error) {
      if (!isFaaSKeeperError(error, 'NOWATCHER')) throw error;
    }
  }

  // ---- internals ---------------------------------------------------------------------------

  private enqueue(task: () => Promise<void>): Promise<void> {
    const run = this.queue.then(async () => {
      if (this.closed) return;
      try {
        await task();
      } catch (error) {
        if (this.listenerCount('error') > 0) this.emit('error', error);
      }
    });
    this.queue = run;
    return run;
  }

  private async apply(event: WatchedEvent): Promise<void> {
    switch (event.type) {
      case 'NodeCreated':
        await this.load(event.path);
        return;
      case 'NodeDataChanged':
        await this.refreshData(event.path);
        return;
      case 'NodeDeleted':
        this.remove(event.path);
        return;
      case 'NodeChildrenChanged':
        // Recursive watches report children through their own NodeCreated/NodeDeleted events.
        return;
    }
  }

  /** Reads `path` and (recursively) every child not yet cached. */
  private async load(path: string): Promise<void> {
    let read: { data: Uint8Array; stat: Stat };
    let children: string[];
    try {
      read = await this.zk.getData(path);
      children = (await this.zk.getChildren(path)).children;
    } catch (error) {
      if (isFaaSKeeperError(error, 'NONODE')) {
        this.remove(path); // gone again before we read it; its NodeDeleted may still follow
        return;
      }
      throw error;
    }
    this.put(path, read.data, read.stat);
    for (const child of children) await this.load(join(path, child));
  }

  private async refreshData(path: string): Promise<void> {
    try {
      const read = await this.zk.getData(path);
      this.put(path, read.data, read.stat);
    } catch (error) {
      if (isFaaSKeeperError(error, 'NONODE')) this.remove(path);
      else throw error;
    }
  }

  private put(path: string, data: Uint8Array, stat: Stat): void {
    const existing = this.nodes.get(path);
    // Reads are monotonic but an older event may be applied after a newer read: keep the newest.
    if (existing !== undefined && existing.stat.mzxid >= stat.mzxid && existing.stat.czxid === stat.czxid)
      return;
    const entry: Entry = { data, stat, children: existing?.children ?? new Set() };
    if (existing !== undefined && existing.stat.czxid !== stat.czxid) entry.children = new Set();
    this.nodes.set(path, entry);
    if (path !== this.root)
      this.nodes.get(parentOf(path))?.children.add(path.slice(path.lastIndexOf('/') + 1));
    this.emit('changed', { type: existing === undefined ? 'added' : 'updated', path, node: { data, stat } });
  }

  private remove(path: string): void {
    const existing = this.nodes.get(path);
    if (existing === undefined) return;
    for (const child of existing.children) this.remove(join(path, child));
    this.nodes.delete(path);
    if (path !== this.root)
      this.nodes.get(parentOf(path))?.children.delete(path.slice(path.lastIndexOf('/') + 1));
    this.emit('changed', { type: 'removed', path });
  }
}
