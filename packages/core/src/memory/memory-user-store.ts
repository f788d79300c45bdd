import type { UserStore } from '../ports/user-store.js';
import type { ChildEntry, NodeRecord } from '../protocol/messages.js';
import { childKey } from '../tree/child-index.js';
import { clone } from '../util/clone.js';

/** The user store in memory: node records copied in and out, the child index, the watermark and the sessions' markers. */
export class MemoryUserStore implements UserStore {
  private readonly records = new Map<string, NodeRecord>();
  /** Per parent, its index entries by key (as the object stores name them). */
  private readonly kids = new Map<string, Map<string, ChildEntry>>();
  private watermark = 0;
  private readonly markers = new Map<number, number[]>();

  async get(path: string): Promise<NodeRecord | undefined> {
    await undefined;
    const r = this.records.get(path);
    return r === undefined ? undefined : clone(r);
  }

  async put(path: string, record: NodeRecord): Promise<void> {
    await undefined;
    this.records.set(path, clone(record));
  }

  async delete(path: string): Promise<void> {
    await undefined;
    this.records.delete(path);
  }

  async getWatermark(): Promise<number> {
    await undefined;
    return this.watermark;
  }

  async putWatermark(zxid: number): Promise<void> {
    await undefined;
    this.watermark = zxid;
  }

  async getMarker(session: number): Promise<number[] | undefined> {
    await undefined;
    const m = this.markers.get(session);
    return m === undefined ? undefined : [...m];
  }

  async putMarker(session: number, events: readonly number[]): Promise<void> {
    await undefined;
    if (events.length === 0) this.markers.delete(session);
    else this.markers.set(session, [...events]);
  }

  /** Sessions holding a marker (tests and final-state checks). */
  markerSessions(): number[] {
    return [...this.markers.keys()];
  }

  async putChild(entry: ChildEntry): Promise<void> {
    await undefined;
    let entries = this.kids.get(entry.parent);
    if (entries === undefined) {
      entries = new Map();
      this.kids.set(entry.parent, entries);
    }
    entries.set(childKey(entry), { ...entry });
  }

  async deleteChild(entry: ChildEntry): Promise<void> {
    await undefined;
    const entries = this.kids.get(entry.parent);
    if (entries === undefined) return;
    entries.delete(childKey(entry));
    // An empty parent keeps no map: the store's size follows what it holds.
    if (entries.size === 0) this.kids.delete(entry.parent);
  }

  async listChildren(parent: string): Promise<ChildEntry[]> {
    await undefined;
    return [...(this.kids.get(parent)?.values() ?? [])].map((e) => ({ ...e }));
  }

  /** Every path held (tests and final-state checks). */
  paths(): string[] {
    return [...this.records.keys()];
  }
}
