import type { ChildEntry, NodeRecord } from '../protocol/messages.js';
import { PortError } from './errors.js';

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
   * The marker `owed/<session>`: the zxids of the latest watch events sent to `session` (ascending,
   * at most {@link MARKER_EVENTS}), or `undefined` when none was written. Ordered notifications:
   * the distributor writes it before the records of the batch that fires the events, and a client
   * holding watches reads it to learn which event a record's `ev` may owe it (see `epoch/`).
   */
  getMarker(session: number): Promise<number[] | undefined>;
  /** Replaces the marker of `session` with `events`; an empty list removes it (the session ended). */
  putMarker(session: number, events: readonly number[]): Promise<void>;
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

/** How many event zxids a marker keeps at most: it stays below 300 bytes whatever the session's traffic. */
export const MARKER_EVENTS = 16;

/**
 * Reads a marker as an adapter stored it (the JSON of its zxid list): every adapter checks it the
 * same way, and a marker that is not a list of zxids is a broken store, not an empty marker.
 * @param what - names the stored item in the error
 * @throws PortError when `text` is not a JSON list of integers
 */
export function parseMarker(text: string, what: string): number[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new PortError(`${what} is not a marker`, { cause: error });
  }
  if (!Array.isArray(value) || !value.every((e) => Number.isSafeInteger(e)))
    throw new PortError(`${what} is not a marker: ${text.slice(0, 80)}`);
  return value as number[];
}
