/**
 * One transaction (one zxid): the node records it writes and the watch events it fires.
 *
 * Guarantee kept: no half transactions — the distributor gets the final record of every node the
 * transaction touched, stamped with its zxid, and its events merged per session, path and type.
 */
import type {
  ChildEntry,
  NodeWrite,
  WatchClass,
  WatchEventType,
  WatchNotification,
} from '../protocol/messages.js';

/**
 * What one transaction (one zxid) changes: the final record of every node it touched, and the
 * watch notifications it fires, merged per session, path and type.
 */
export class Txn {
  readonly writes = new Map<string, NodeWrite>();
  /** The child index entries the txn adds (creates) and tombstones (deletes), in order. */
  readonly kids: ChildEntry[] = [];
  private readonly events = new Map<string, WatchNotification>();

  constructor(
    readonly zxid: number,
    readonly time: number,
  ) {}

  write(w: NodeWrite): void {
    const prev = this.writes.get(w.path);
    // A record rewritten later in the same txn (a child added after the node's creation) keeps
    // the data set earlier in the txn, and whether that data is null.
    if (w.put && w.data === undefined && prev?.put && prev.data !== undefined)
      this.writes.set(w.path, { ...w, data: prev.data, ...(prev.nullData ? { nullData: true } : {}) });
    else this.writes.set(w.path, w);
  }

  notify(session: number, type: WatchEventType, path: string, cls: WatchClass): void {
    const key = `${session}|${type}|${path}`;
    const e = this.events.get(key);
    if (e === undefined) this.events.set(key, { session, type, path, classes: [cls] });
    else if (!e.classes.includes(cls)) e.classes.push(cls);
  }

  notifications(): WatchNotification[] {
    return [...this.events.values()];
  }
}
