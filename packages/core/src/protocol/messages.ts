/**
 * The record and message formats that cross a port. Everything here is plain data: it is encoded
 * with {@link encodeMessage} for queues and channels, and copied by the in-memory stores.
 *
 * Flow: client ──WriteRequest──▶ writer queue ──▶ writer ──DistributorBatch──▶ distributor queue
 * ──▶ distributor ──ChannelMessage──▶ the session's channel. Reads use {@link NodeRecord}s in
 * the user store directly.
 *
 * Each message crossing a queue or channel is one valibot schema, and its TypeScript type is
 * derived from it (`v.InferOutput`), so the check a reader runs and the type its writer builds
 * cannot drift apart. Optional fields are `v.exactOptional`: absent, never `undefined`
 * (exactOptionalPropertyTypes). The schemas carry the messages a refused request is answered with
 * (see `validate.ts`); input quoted in one is always shortened.
 */

import type { NodeKind } from '../model/create-mode.js';
import type { Stat } from '../model/stat.js';
import type { ItemKind } from '../ports/system-store.js';
import type { DistributorBatch } from './batches.js';
import type { ACL, Id } from './fields.js';

export {
  type ChannelBody,
  type ChannelMessage,
  ChannelMessageSchema,
  type DistributorBatch,
  DistributorBatchSchema,
  type DistributorItem,
} from './batches.js';
export {
  type ACL,
  type Id,
  type NullDataFlag,
  type PersistentWatchMode,
  PROTOCOL_VERSION,
  type ReadWatchKind,
  type WatchClass,
  type WatchEventType,
} from './fields.js';
export {
  type MultiOpRequest,
  MultiOpRequestSchema,
  type RequestOp,
  RequestOpSchema,
  type WriteRequest,
  WriteRequestSchema,
} from './requests.js';
export {
  type ChildEntry,
  type NodeRecord,
  NodeRecordSchema,
  type NodeWrite,
  type OpResult,
  type ReplyError,
  type ReplyResult,
  type Requester,
  type WatchNotification,
} from './results.js';

/**
 * A node's metadata in the system store (authoritative). It holds no child list: a node's children
 * are the node items under its path, and its `stat` keeps their count (`numChildren`), `cversion`
 * and `pzxid`, so that no write rewrites an item that grows with the children (docs/scale.md).
 */
export interface SystemNode {
  stat: Stat;
  /**
   * Only on items written before children became their own items (layout 1): never read, and
   * dropped the next time the item is written (see `withoutChildList` in tree/nodes.ts).
   */
  children?: string[];
  kind: NodeKind;
  ttlMs?: number;
  /**
   * How many children were ever created under the node: the next sequential suffix (ZooKeeper
   * 3.8 counts child creations, not deletes; `stat.cversion` counts both). Absent on items written
   * before it was kept: `stat.cversion` stands in, which is at or past every suffix given then.
   */
  createdChildren?: number;
  /** The node's ACL; absent: OPEN_ACL_UNSAFE (every node before ACLs, and the root). */
  acl?: ACL[];
}

/**
 * A system-store node item: the node if it exists, plus its one-shot watch registrations (an
 * `exists` watch on a missing path keeps an item with no node): the first few sessions of each
 * class inline, the rest as `watch` items of the open generation (`watch/one-shot.ts`). Items
 * written before generations existed may hold longer inline lists; they are read the same way.
 */
export interface SystemNodeItem {
  node?: SystemNode;
  dataWatches?: number[];
  childWatches?: number[];
  /** The open generation of data registrations past the inline ones (a zxid); absent: none. */
  dataWatchGen?: number;
  /** The open generation of child registrations past the inline ones (a zxid); absent: none. */
  childWatchGen?: number;
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
  /** The session key (base64url) its requests are signed with (session/auth.ts). */
  key?: string;
  /** The identities the session added with `addAuth` (absent: none; everyone is world:anyone). */
  auth?: Id[];
  /** The incarnation serving the session: bumped to the resumer's on each resume (absent: 0, the opener). */
  incarnation?: number;
  /**
   * The latest incarnations it replaced (bounded): a redelivered resume of one of them is a
   * duplicate, not a new hand-over back to it.
   */
  replaced?: number[];
}

/** A sealed list of paths where a session holds (or held) one-shot watch registrations. */
export interface WatchPathsItem {
  paths: string[];
}

/**
 * An ended session whose watch registrations are still to be removed (after its close): the value
 * of its `cleanup` item (`watch/ended-sessions.ts`).
 */
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

/** A Bloom filter of paths (`watch/path-filter.ts`). */
export interface PathFilter {
  /** The bit array (raw bytes: the stores keep them as binary, 2 KiB at most). */
  bits: Uint8Array;
  /** Paths added since it was built (counted with repeats: an upper bound of the distinct ones). */
  n: number;
}

/** The writer's own item: the zxid counter and what its last batch committed. */
/**
 * One item write of a commit, kept in the writer state until the next commit replaces it (the
 * redo log, `writer/redo-log.ts`): the item's final value (or its deletion) and the version it was
 * logged against (`'absent'`: created by the op).
 */
export type LoggedOp =
  | { type: 'put'; kind: ItemKind; id: string; value: unknown; expect: number | 'absent' }
  | { type: 'delete'; kind: ItemKind; id: string; expect: number | 'absent' };

export interface WriterState {
  zxid: number;
  batch: number;
  /**
   * The item writes of the last commit when it was committed by the state put alone (the redo
   * log): applied right after the commit, and by whoever reads the state next if they may not
   * have been (a crash in between). Absent: the last commit was one transaction.
   */
  log?: LoggedOp[];
  /**
   * `last` and `log` as stored (`writer/redo-log.ts` packState): their JSON text deflated (`z`), and
   * their byte arrays raw (`b`). Only in the stored item; the writer unpacks it on reading.
   */
  packed?: { z: Uint8Array; b: Uint8Array[] };
  /**
   * Request ids of the last committed batch, and what it handed the distributor, handed on again
   * when a retry finds the batch committed: the {@link DistributorBatch} itself (`output`), so that
   * a store that keeps bytes raw (DynamoDB) does not bill node data inflated by base64 in the
   * writer's transaction; `body` (the encoded batch) in states written before that.
   */
  last?: { ids: string[]; batch: number; output?: DistributorBatch; body?: string };
  /**
   * The zxid of the latest transaction that sent a watch event (ordered notifications: records
   * carry it as `ev`, see `epoch/`); absent: none yet. A scalar, whatever the number of watchers.
   */
  lastEventZxid?: number;
  /**
   * The first layout's map of unacknowledged events per session: no longer kept. A state that
   * still holds one is read as `lastEventZxid` = its largest entry (see `writer/writer.ts`).
   */
  epoch?: Record<string, number>;
  /**
   * Persistent watches of a state written before they became `pwatch` items: still honoured, and
   * moved into items by the writer's cleanup commits (`migrateLegacyPersistent`). New states never
   * hold it.
   */
  persistentWatches?: PersistentWatch[];
  /** The Bloom filter of paths holding `pwatch` items (`watch/path-filter.ts`); absent: none. */
  pwatchFilter?: PathFilter;
  /**
   * How many fired generations of one-shot registrations wait for removal (`cleanup` items);
   * absent: none, and the writer does not look.
   */
  firedGenerations?: number;
  /**
   * How many ended sessions have watch registrations still to remove after their close (`cleanup`
   * items `␁ended␁<session>`, see `watch/ended-sessions.ts`); absent: none, and the writer does not
   * look. A count, so that the state does not grow with the sessions being closed.
   */
  endedSessions?: number;
  /**
   * The first layout of the above, a list in the state itself: a state that still holds one is
   * honoured, and its entries are moved into `cleanup` items by the writer's cleanup commits. New
   * states never hold it.
   */
  watchCleanup?: WatchCleanup[];
  /**
   * Incarnations of open sessions that were resumed (session id → incarnation): where the
   * distributor sends their messages. Only resumed sessions are listed; an entry goes with its session.
   */
  incarnations?: Record<string, number>;
  /**
   * Child Stats not yet written to their node items (`writer/child-stats.ts`): a plain create or
   * delete changes its parent's `cversion`, `pzxid`, `numChildren` and sequential counter here
   * instead of rewriting the parent's item; the writer and every other reader of node items lay
   * them over the item. Keyed by path, a few at most; absent: none.
   */
  childStats?: Record<string, ChildStat>;
}

/**
 * The child-related part of a node's metadata, kept in the writer state for a node whose item is
 * not rewritten (`WriterState.childStats`). `czxid` names the node's life it belongs to.
 */
export interface ChildStat {
  czxid: number;
  cversion: number;
  pzxid: number;
  numChildren: number;
  /** The sequential counter (`SystemNode.createdChildren`). */
  created: number;
}
