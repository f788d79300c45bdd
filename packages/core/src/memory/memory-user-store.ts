import type { UserStore } from '../ports/user-store.js';
import type { NodeRecord } from '../protocol/messages.js';
import { clone } from '../util/clone.js';

/** The user store in memory: node records copied in and out, the watermark and the sessions' markers. */
export class MemoryUserStore implements UserStore {
  private readonly records = new Map<string, NodeRecord>();
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

  /** Every path held (tests and final-state checks). */
  paths(): string[] {
    return [...this.records.keys()];
  }
}
