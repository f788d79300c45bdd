import type { CreateMode } from '../model/create-mode.js';
import type { Stat } from '../model/stat.js';
import type { Channel } from '../ports/channel.js';
import type { Clock } from '../ports/clock.js';
import type { Queue } from '../ports/queue.js';
import type { LeaseRenewer } from '../ports/session-lease.js';
import type { UserStore } from '../ports/user-store.js';
import type { ACL, WatchEventType } from '../protocol/messages.js';

/** A session's state, as ZooKeeper names them. */
export type SessionState = 'CONNECTING' | 'CONNECTED' | 'DISCONNECTED' | 'EXPIRED' | 'CLOSED';

/** A watch notification. */
export interface WatchedEvent {
  type: WatchEventType;
  path: string;
}

/** Called once per event (one-shot watches) or on every event (persistent watches). */
export type Watcher = (event: WatchedEvent) => void;

/**
 * Node data as a write takes it: bytes, a string taken as UTF-8, or `null` for ZooKeeper's null
 * data (stored apart from empty bytes: `getData` answers it with `nullData: true`). Where data is
 * optional, leaving it out means empty bytes, not null.
 */
export type Data = Uint8Array | string | null;

/** What `getData` resolves: the node's data and Stat, and `nullData: true` when the data is null. */
export interface NodeData {
  /** The node's data; empty when it is null. */
  data: Uint8Array;
  stat: Stat;
  /** Present (and true) only when the data is ZooKeeper's null; `stat.dataLength` is then 0. */
  nullData?: true;
}

export interface CreateOptions {
  mode?: CreateMode;
  /** Time to live of a TTL node, in ms (TTL modes only). */
  ttlMs?: number;
  /**
   * The node's ACL; default `Ids.OPEN_ACL_UNSAFE` (world:anyone, every permission). Not inherited
   * by children. An `auth` entry stands for each identity the session added with `addAuth`.
   */
  acl?: readonly ACL[];
}

export interface WatchOption {
  watch?: Watcher;
}

export interface VersionOption {
  /** Expected version; -1 or absent: any. */
  version?: number;
}

/**
 * One op of a `multi`. `create` and `setData` take {@link Data} as their single calls do: `null`
 * is ZooKeeper's null data, an absent create `data` is empty bytes.
 */
export type Op =
  | { op: 'create'; path: string; data?: Data; mode?: CreateMode; ttlMs?: number; acl?: readonly ACL[] }
  | { op: 'delete'; path: string; version?: number }
  | { op: 'setData'; path: string; data: Data; version?: number }
  | { op: 'check'; path: string; version: number };

export type { ACL, Id, OpResult } from '../protocol/messages.js';

/** What `getACL` resolves: the node's ACL and Stat (`stat.aversion` is `setACL`'s version). */
export interface NodeAcl {
  acl: ACL[];
  stat: Stat;
}
export type { Stat };

export type AddWatchMode = 'PERSISTENT' | 'PERSISTENT_RECURSIVE';

/**
 * A class of watch, as `removeWatches` takes it (ZooKeeper's `WatcherType`): `data` covers the
 * watches set by `getData` and `exists`, `children` those of `getChildren`, `persistent` and
 * `recursive` the two modes of `addWatch`; `any` is all of them.
 */
export type RemoveWatchType = 'data' | 'children' | 'persistent' | 'recursive' | 'any';

/** Options of `removeWatches`. */
export interface RemoveWatchesOptions {
  /** Which class of watch to remove; default `any`. */
  type?: RemoveWatchType;
}

/**
 * What a client needs to reach a deployment: the writer queue, the user store and the channel, and
 * the lease its idle session renews (without one, an idle client pings through the writer).
 */
export interface ClientTransport {
  writerQueue: Queue;
  userStore: UserStore;
  channel: Channel;
  lease?: LeaseRenewer;
}

/** Options of {@link FaaSKeeperClient.connect}. */
export interface ClientOptions {
  /** Session timeout: without a sign of life for this long, the session expires. Default 10 s. */
  sessionTimeoutMs?: number;
  /** How long an operation may wait for its reply. Default 30 s. */
  operationTimeoutMs?: number;
  /** Injected clock (tests); defaults to the process clock. */
  clock?: Clock;
  /** A fixed session id (tests); otherwise a random 52-bit id. With `resume`, the session to resume. */
  sessionId?: number;
  /**
   * Resume the open session `sessionId` (opened by another client, e.g. another gateway process)
   * instead of opening one: this client becomes its new incarnation — its ephemerals and watch
   * registrations stay, and the replaced client's requests are refused (SESSIONMOVED) from then on.
   * `sessionTimeoutMs` is then taken from the session. Whoever resumes must have checked that the
   * caller owns the session (the gateway checks its password): the deployment does not.
   */
  resume?: boolean;
  /**
   * Builds the lease renewer this client's session uses from the deployment's (when it has one): a
   * process serving many sessions keeps them all alive with one group lease (`LeaseGroup`).
   */
  lease?: (deployment: LeaseRenewer) => LeaseRenewer;
  /**
   * The session key (32 bytes) the session's requests are signed with and its channel key is
   * wrapped under (session/auth.ts). Default: drawn at random when the session opens. Resuming
   * needs the key the session was opened with (a gateway derives it from its secret).
   */
  sessionKey?: Uint8Array;
}
