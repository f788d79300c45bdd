import type { ChildEntry, NodeRecord } from '../protocol/messages.js';

/**
 * The user store: node records that clients read directly, written only by the distributor
 * (S3, Cloud Storage, DynamoDB, Datastore, or memory). Reads are strongly consistent.
 *
 * A node's children are not in its record but in a child index of their own: one entry per life of
 * a child (created at `czxid`; its tombstone also names `dzxid`), listed by parent. So a record's
 * size, and every write of it, stays independent of the number of children (docs/scale.md).
 */
export interface UserStore {
  /** The record at `path`, or `undefined` when there is none. Never throws for a miss. */
  get(path: string): Promise<NodeRecord | undefined>;
  put(path: string, record: NodeRecord): Promise<void>;
  /** Removes the record; removing a missing record is not an error. */
  delete(path: string): Promise<void>;
  /** The zxid up to which every transaction is fully applied (0 before any). */
  getWatermark(): Promise<number>;
  putWatermark(zxid: number): Promise<void>;
  /**
   * Adds a child index entry under `entry.parent`: a live one, or with `dzxid` a tombstone (a
   * separate entry from the live one of the same life). Writing an entry that exists is not an error.
   */
  putChild(entry: ChildEntry): Promise<void>;
  /** Removes exactly that entry (live or tombstone); removing a missing entry is not an error. */
  deleteChild(entry: ChildEntry): Promise<void>;
  /**
   * Every index entry under `parent` (live entries and tombstones; not those of deeper
   * descendants), in no particular order: all pages, however many.
   */
  listChildren(parent: string): Promise<ChildEntry[]>;
}
