import type { UserStore, Zone } from '../ports/user-store.js';
import type { ChildEntry, NodeRecord } from '../protocol/messages.js';
import { childKey } from '../tree/child-index.js';
import { type MemoryStoreOptions, valueHandling } from './values.js';

/**
 * The user store in memory: node records copied in and out (or shared, or frozen: `values`,
 * {@link MemoryStoreOptions}), the child index, the watermark and the sessions' markers. Each zone
 * is its own pair of maps (a protected record never shares a key with an open one).
 */
export class MemoryUserStore implements UserStore {
  private readonly zones = { open: newZone(), protected: newZone() };
  private watermark = 0;
  private readonly markers = new Map<number, number[]>();
  /** Makes a record put the store's own. */
  private readonly keep: <T>(value: T) => T;
  /** What a caller gets of a record the store holds. */
  private readonly handOut: <T>(value: T) => T;

  constructor(options: MemoryStoreOptions = {}) {
    ({ keep: this.keep, handOut: this.handOut } = valueHandling(options.values));
  }

  async get(path: string, zone: Zone = 'open'): Promise<NodeRecord | undefined> {
    await undefined;
    const r = this.zones[zone].records.get(path);
    return r === undefined ? undefined : this.handOut(r);
  }

  async put(path: string, record: NodeRecord, zone: Zone = 'open'): Promise<void> {
    await undefined;
    this.zones[zone].records.set(path, this.keep(record));
  }

  async delete(path: string, zone: Zone = 'open'): Promise<void> {
    await undefined;
    this.zones[zone].records.delete(path);
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

  async putChild(entry: ChildEntry, zone: Zone = 'open'): Promise<void> {
    await undefined;
    const kids = this.zones[zone].kids;
    let entries = kids.get(entry.parent);
    if (entries === undefined) {
      entries = new Map();
      kids.set(entry.parent, entries);
    }
    entries.set(childKey(entry), { ...entry });
  }

  async deleteChild(entry: ChildEntry, zone: Zone = 'open'): Promise<void> {
    await undefined;
    const kids = this.zones[zone].kids;
    const entries = kids.get(entry.parent);
    if (entries === undefined) return;
    entries.delete(childKey(entry));
    // An empty parent keeps no map: the store's size follows what it holds.
    if (entries.size === 0) kids.delete(entry.parent);
  }

  async listChildren(parent: string, zone: Zone = 'open'): Promise<ChildEntry[]> {
    await undefined;
    return [...(this.zones[zone].kids.get(parent)?.values() ?? [])].map((e) => ({ ...e }));
  }

  /** Every path holding a record in `zone` (tests and final-state checks). */
  paths(zone: Zone = 'open'): string[] {
    return [...this.zones[zone].records.keys()];
  }

  /** Every parent holding child index entries in `zone` (tests and final-state checks). */
  parents(zone: Zone = 'open'): string[] {
    return [...this.zones[zone].kids.keys()];
  }
}

function newZone(): { records: Map<string, NodeRecord>; kids: Map<string, Map<string, ChildEntry>> } {
  // Per parent, its index entries by key (as the object stores name them).
  return { records: new Map(), kids: new Map() };
}
