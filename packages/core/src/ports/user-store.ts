import type { NodeRecord } from '../protocol/messages.js';

/**
 * The user store: node records that clients read directly, written only by the distributor
 * (S3, Cloud Storage, DynamoDB, Datastore, or memory). Reads are strongly consistent.
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
}
