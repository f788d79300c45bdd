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
  /** The record at `path` in `zone` (default `open`), or `undefined` when there is none. Never throws for a miss. */
  get(path: string, zone?: Zone): Promise<NodeRecord | undefined>;
  put(path: string, record: NodeRecord, zone?: Zone): Promise<void>;
  /** Removes the record from `zone`; removing a missing record is not an error. */
  delete(path: string, zone?: Zone): Promise<void>;
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
   * separate entry from the live one of the same life, unless {@link childTombstoneInPlace}).
   * Writing an entry that exists is not an error.
   */
  putChild(entry: ChildEntry, zone?: Zone): Promise<void>;
  /**
   * Removes exactly that entry (live or tombstone; with {@link childTombstoneInPlace}, the life's
   * one entry, whichever it is); removing a missing entry is not an error.
   */
  deleteChild(entry: ChildEntry, zone?: Zone): Promise<void>;
  /**
   * True when the store keeps a life's tombstone in place of its live entry (one item per life,
   * keyed by name and `czxid`, the tombstone replacing the live entry at once): a listing then
   * never shows both, and one `deleteChild` removes the life, so the distributor makes one call
   * where it would make two (the DynamoDB user store: one write unit less per delete). A store
   * whose listing returns keys only (S3, Cloud Storage) keeps them apart: the key is the content.
   */
  readonly childTombstoneInPlace?: boolean;
  /**
   * Every index entry under `parent` in `zone` (live entries and tombstones; not those of deeper
   * descendants), in no particular order: all pages, however many.
   */
  listChildren(parent: string, zone?: Zone): Promise<ChildEntry[]>;
}

/**
 * Where a record or child index entry lives. `open`: what clients read directly with their cloud
 * credentials. `protected`: records of nodes whose ACL does not grant `world:anyone` READ, and the
 * child index entries under them; only the deployment's functions may read it (the stacks grant
 * clients no access to it: S3 and GCS the `protected/` key prefix, DynamoDB the `protected/` key
 * prefix by a `dynamodb:LeadingKeys` condition, Datastore a kind of its own). The open zone keeps a
 * stub of such a node (its Stat, no data, `protected: true`), so that `exists` stays a direct read.
 */
export type Zone = 'open' | 'protected';

/** The key prefix of the protected zone in the key-value adapters (object names, partition keys). */
export const PROTECTED_PREFIX = 'protected/';

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
