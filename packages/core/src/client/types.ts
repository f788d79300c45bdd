import type { CreateMode } from '../model/create-mode.js';
import type { Stat } from '../model/stat.js';
import type { WatchEventType } from '../protocol/messages.js';

/** A session's state, as ZooKeeper names them. */
export type SessionState = 'CONNECTING' | 'CONNECTED' | 'DISCONNECTED' | 'EXPIRED' | 'CLOSED';

/** A watch notification. */
export interface WatchedEvent {
  type: WatchEventType;
  path: string;
}

/** Called once per event (one-shot watches) or on every event (persistent watches). */
export type Watcher = (event: WatchedEvent) => void;

/** Node data: bytes, or a string taken as UTF-8. */
export type Data = Uint8Array | string;

export interface CreateOptions {
  mode?: CreateMode;
  /** Time to live of a TTL node, in ms (TTL modes only). */
  ttlMs?: number;
}

export interface WatchOption {
  watch?: Watcher;
}

export interface VersionOption {
  /** Expected version; -1 or absent: any. */
  version?: number;
}

export type Op =
  | { op: 'create'; path: string; data?: Data; mode?: CreateMode; ttlMs?: number }
  | { op: 'delete'; path: string; version?: number }
  | { op: 'setData'; path: string; data: Data; version?: number }
  | { op: 'check'; path: string; version: number };

export type { OpResult } from '../protocol/messages.js';
export type { Stat };

export type AddWatchMode = 'PERSISTENT' | 'PERSISTENT_RECURSIVE';

/** Options of `removeWatches`: which class of watch to remove (default `any`: every class). */
export interface RemoveWatchesOptions {
  /** `data` covers watches set by `getData` and `exists`; `persistent` and `recursive` are `addWatch`'s. */
  type?: 'data' | 'children' | 'persistent' | 'recursive' | 'any';
}
