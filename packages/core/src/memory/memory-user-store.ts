import type { UserStore } from '../ports/user-store.js';
import type { NodeRecord } from '../protocol/messages.js';
import { clone } from '../util/clone.js';

/** The user store in memory: node records copied in and out, and the watermark. */
export class MemoryUserStore implements UserStore {
  private readonly records = new Map<string, NodeRecord>();
  private watermark = 0;

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

  /** Every path held (tests and final-state checks). */
  paths(): string[] {
    return [...this.records.keys()];
  }
}
