/**
 * The record and message formats that cross a port. Everything here is plain data: it is encoded
 * with {@link encodeMessage} for queues and channels, and copied by the in-memory stores.
 *
 * Flow: client ──WriteRequest──▶ writer queue ──▶ writer ──DistributorBatch──▶ distributor queue
 * ──▶ distributor ──ChannelMessage──▶ the session's channel. Reads use {@link NodeRecord}s in
 * the user store directly.
 */

import type { CreateMode, NodeKind } from '../model/create-mode.js';
import type { ErrorCode, MultiErrorResult } from '../model/errors.js';
import type { Stat } from '../model/stat.js';

/** Version of the formats below; a reader refuses what it does not know. */
export const PROTOCOL_VERSION = 1;

/** What a one-shot watch set by a read looks at. `exists` on a missing node waits for its creation. */
export type ReadWatchKind = 'data' | 'exists' | 'children';
/** Persistent watches set by `addWatch`. */
export type PersistentWatchMode = 'PERSISTENT' | 'PERSISTENT_RECURSIVE';
/** Watch classes as `removeWatches` sees them. */
export type WatchClass = 'data' | 'children' | 'persistent' | 'recursive';

export type WatchEventType = 'NodeCreated' | 'NodeDeleted' | 'NodeDataChanged' | 'NodeChildrenChanged';

/**
 * Marks data that is ZooKeeper's null (`create(path, null, …)`, `setData(path, null, -1)`), not
 * empty bytes: `data` is then empty and reads answer null (length -1 on ZooKeeper's wire); Stat's
 * dataLength is 0 either way. Absent means not null, so the common case costs no bytes and records
 * written before the flag existed read as before.
 */
export interface NullDataFlag {
  nullData?: true;
}

/** One op of a multi, as the client sends it (data already encoded, defaults filled). */
export type MultiOpRequest =
  | ({ op: 'create'; path: string; data: Uint8Array; mode: CreateMode; ttlMs?: number } & NullDataFlag)
  | { op: 'delete'; path: string; version: number }
  | ({ op: 'setData'; path: string; data: Uint8Array; version: number } & NullDataFlag)
  | { op: 'check'; path: string; version: number };

/** The operation a {@link WriteRequest} asks for. */
export type RequestOp =
  | { type: 'openSession'; timeoutMs: number }
  | { type: 'closeSession' }
  | { type: 'ping' }
  | ({ type: 'create'; path: string; data: Uint8Array; mode: CreateMode; ttlMs?: number } & NullDataFlag)
  | { type: 'delete'; path: string; version: number }
  | ({ type: 'setData'; path: string; data: Uint8Array; version: number } & NullDataFlag)
  | { type: 'multi'; ops: MultiOpRequest[] }
  | { type: 'sync'; path: string }
  | { type: 'watchedRead'; path: string; watch: ReadWatchKind }
  | { type: 'addWatch'; path: string; mode: PersistentWatchMode }
  | { type: 'removeWatches'; path: string; classes: WatchClass[] }
  // Sent by the heartbeat, never by a client (session 0).
  | { type: 'expireSession'; target: number }
  | { type: 'expireTtl'; path: string; mzxid: number };

/**
 * A request in the writer queue. `session` and `seq` identify it (the writer applies each
 * `(session, seq)` at most once); `ack` is the highest zxid the client has taken from its channel,
 * which releases epoch entries (DESIGN.md §4, ordered notifications).
 */
export interface WriteRequest {
  v: number;
  id: string;
  session: number;
  seq: number;
  ack?: number;
  op: RequestOp;
}

/** Result of one successful op of a multi. */
export type OpResult =
  | { op: 'create'; path: string }
  | { op: 'delete' }
  | { op: 'setData'; stat: Stat }
  | { op: 'check' };

/** What a successful request returns to its client. */
export type ReplyResult =
  | { type: 'create'; path: string; stat: Stat }
  | { type: 'setData'; stat: Stat }
  | { type: 'delete' }
  | { type: 'multi'; results: OpResult[] }
  | { type: 'sync' }
  | { type: 'session'; timeoutMs: number }
  | { type: 'ping' }
  | { type: 'closeSession' }
  | { type: 'addWatch' }
  | { type: 'removeWatches' }
  | { type: 'read'; record: NodeRecord | null };

export interface ReplyError {
  code: ErrorCode;
  message: string;
  path?: string;
  results?: MultiErrorResult[];
}

/** Where a reply goes. */
export interface Requester {
  session: number;
  seq: number;
}

/** A change of one node record that the distributor applies to the user store. */
export type NodeWrite =
  | {
      path: string;
      put: true;
      stat: Stat;
      children: string[];
      /** New data; absent when the txn did not change the node's data (e.g. a child was added). */
      data?: Uint8Array;
      /** The new data is null ({@link NullDataFlag}); only beside `data`, never on its own. */
      nullData?: true;
    }
  | { path: string; put: false };

/** A watch notification for one session. */
export interface WatchNotification {
  session: number;
  type: WatchEventType;
  path: string;
  /** Which of the session's watch classes this fires (the client fires its local watchers of these). */
  classes: WatchClass[];
}

/** An item of a {@link DistributorBatch}, in zxid order. */
export type DistributorItem =
  | {
      type: 'txn';
      zxid: number;
      writes: NodeWrite[];
      events: WatchNotification[];
      reply?: Requester & { result: ReplyResult };
      /** Sessions the txn closed; each is told (EXPIRED or CLOSED) on its channel. */
      closed?: { session: number; state: 'EXPIRED' | 'CLOSED' }[];
    }
  | { type: 'reply'; zxid: number; to: Requester; result?: ReplyResult; error?: ReplyError }
  | { type: 'read'; zxid: number; to: Requester; path: string };

/**
 * What the writer hands the distributor for one committed batch. `epoch` maps a session to the
 * highest zxid of a watch event sent to it that it has not yet acknowledged: every record the
 * distributor writes carries it, so a reader of that record waits for the event first.
 */
export interface DistributorBatch {
  v: number;
  batch: number;
  /** zxid after the batch: the watermark once the batch is applied. */
  zxid: number;
  epoch: Record<string, number>;
  items: DistributorItem[];
}

/** A node as readers see it in the user store. */
export interface NodeRecord {
  data: Uint8Array;
  /** The data is ZooKeeper's null, `data` then being empty ({@link NullDataFlag}); absent: not null. */
  nullData?: true;
  stat: Stat;
  children: string[];
  /** zxid of the last transaction that wrote this record (create, setData, child change, delete). */
  txZxid: number;
  /** Unacknowledged watch events per session at write time (see {@link DistributorBatch.epoch}). */
  epoch?: Record<string, number>;
  /** A tombstone: the node was deleted at `txZxid`; removed once the watermark covers it. */
  deleted?: boolean;
}

/** Body of a message on a session's channel. */
export type ChannelBody =
  | { type: 'reply'; seq: number; result?: ReplyResult; error?: ReplyError }
  | { type: 'event'; event: { type: WatchEventType; path: string }; classes: WatchClass[] }
  | { type: 'session'; state: 'EXPIRED' | 'CLOSED' };

/**
 * A message on a session's channel. `order` is `[batch, index]`, strictly increasing per session
 * and identical on redelivery, so the client drops duplicates; `zxid` is the change it reports;
 * `wm` the watermark the user store has reached when it was sent.
 */
export interface ChannelMessage {
  v: number;
  order: [number, number];
  zxid: number;
  wm: number;
  body: ChannelBody;
}

/** A node's metadata in the system store (authoritative). */
export interface SystemNode {
  stat: Stat;
  children: string[];
  kind: NodeKind;
  ttlMs?: number;
  /**
   * How many children were ever created under the node: the next sequential suffix (ZooKeeper
   * 3.8 counts child creations, not deletes; `stat.cversion` counts both). Absent on items written
   * before it was kept: `stat.cversion` stands in, which is at or past every suffix given then.
   */
  createdChildren?: number;
}

/**
 * A system-store node item: the node if it exists, plus the sessions holding one-shot watches on
 * the path (an `exists` watch on a missing path keeps an item with no node).
 */
export interface SystemNodeItem {
  node?: SystemNode;
  dataWatches?: number[];
  childWatches?: number[];
}

/** A session in the system store. `expiresAt` is an absolute deadline in the writer's clock. */
export interface SessionItem {
  id: number;
  timeoutMs: number;
  expiresAt: number;
  lastSeq: number;
  ephemerals: string[];
  /**
   * The newest paths where this session holds one-shot watch registrations (bounded in count and
   * bytes; paths whose registrations are gone are forgotten when it fills up).
   */
  watchPaths: string[];
  /**
   * How many full lists of older watched paths the session has sealed into items of their own
   * (`meta` items `watches:<session>:<n>`, n = 1..watchChunks, each a {@link WatchPathsItem}).
   */
  watchChunks?: number;
}

/** A sealed list of paths where a session holds (or held) one-shot watch registrations. */
export interface WatchPathsItem {
  paths: string[];
}

/** An ended session whose watch registrations are still to be removed (after its close). */
export interface WatchCleanup {
  session: number;
  /** Its path lists left to go through: `watches:<session>:1` to `watches:<session>:<chunks>`. */
  chunks: number;
}

/** A persistent watch registration. */
export interface PersistentWatch {
  session: number;
  path: string;
  recursive: boolean;
}

/** The writer's own item: the zxid counter and what its last batch committed. */
export interface WriterState {
  zxid: number;
  batch: number;
  /**
   * Request ids of the last committed batch, and what it handed the distributor (the encoded
   * {@link DistributorBatch}, sent again as is when a retry finds the batch committed).
   */
  last?: { ids: string[]; batch: number; body: string };
  epoch: Record<string, number>;
  persistentWatches: PersistentWatch[];
  /**
   * Ended sessions with too many watch registrations to remove in their close's own transaction:
   * removed by the writer in later commits; until then no event goes to them.
   */
  watchCleanup?: WatchCleanup[];
}
