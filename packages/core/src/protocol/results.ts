/** What replies and records carry: Stat, results, errors, node writes and watch notifications. */
import * as v from 'valibot';
import type { ErrorCode } from '../model/errors.js';
import { ErrorCodes } from '../model/errors.js';
import type { Stat } from '../model/stat.js';
import {
  aclEntry,
  aclId,
  anyPath,
  bytes,
  natural,
  record,
  sessionId,
  tagged,
  watchClass,
  watchEventType,
  zxid,
} from './fields.js';

const STAT_FIELDS = [
  'czxid',
  'mzxid',
  'pzxid',
  'ctime',
  'mtime',
  'version',
  'cversion',
  'aversion',
  'ephemeralOwner',
  'dataLength',
  'numChildren',
] as const satisfies readonly (keyof Stat)[];

const ZXID_FIELDS: ReadonlySet<string> = new Set(['czxid', 'mzxid', 'pzxid']);

/** What is wrong with `x` as a {@link Stat} (every field a number, zxids safe integers), or undefined. */
function statProblem(x: unknown): string | undefined {
  if (typeof x !== 'object' || x === null) return 'stat must be an object';
  const s = x as Record<string, unknown>;
  for (const f of STAT_FIELDS) {
    const value = s[f];
    if (typeof value !== 'number') return `stat.${f} must be a number`;
    if (ZXID_FIELDS.has(f) && !Number.isSafeInteger(value)) return `stat.${f} must be an integer zxid`;
  }
  return undefined;
}

/**
 * A node's metadata (ZooKeeper's `Stat`, the model's {@link Stat}), as messages and records carry
 * it. One predicate rather than an object schema of eleven fields: every reply and record carries a
 * Stat, and the object schema's per-field pipeline and copy were most of a write's checking cost.
 */
export const stat = v.custom<Stat>(
  (x) => statProblem(x) === undefined,
  (issue) => statProblem(issue.input) ?? 'bad stat',
);

export const errorCode = v.picklist(Object.keys(ErrorCodes) as ErrorCode[], 'unknown error code');

/**
 * A node as readers see it in the user store. `nullData`: the data is ZooKeeper's null, `data` then
 * being empty (absent: not null); `txZxid`: the zxid of the last transaction that wrote the record
 * (create, setData, child change, delete); `ev`: the zxid of the latest transaction up to `txZxid`
 * that sent any watch event (ordered notifications, see `epoch/read-rule.ts`); `epoch`: the map
 * records of the first layout carried instead (read, never written); `deleted`: a tombstone, the node was deleted at
 * `txZxid`, removed once the watermark covers it; `complete`: the record stands in for the
 * watermark at `txZxid`; `closer`: the record that does for this one's distribution; `acl`: the node's ACL, absent when open.
 */
export const NodeRecordSchema = record(
  {
    data: bytes,
    // The data is ZooKeeper's null, `data` then being empty (`NullDataFlag`); absent: not null.
    nullData: v.exactOptional(v.literal(true)),
    stat,
    // No child list: children are their own index entries in the user store (`ChildEntry`), so a
    // record's size does not grow with them. A record written before that may still carry
    // `children`; the schema drops it.
    // zxid of the last transaction that wrote this record (create, setData, child change, delete).
    txZxid: zxid,
    // The latest transaction up to `txZxid` that sent a watch event (absent: none ever did).
    ev: v.exactOptional(zxid),
    // The first layout's unacknowledged events per session: still honoured on records written
    // before the change to `ev`, never written now.
    epoch: v.exactOptional(v.record(v.string(), v.number())),
    // A tombstone: the node was deleted at `txZxid`; removed once the watermark covers it.
    deleted: v.exactOptional(v.boolean()),
    // The distributor wrote this record last for the batch at `txZxid` and did not move the
    // watermark: with the record in the store every transaction up to `txZxid` is visible, so a
    // reader takes it as the watermark (`distributor/closing-record.ts`).
    complete: v.exactOptional(v.literal(true)),
    // The path of the record that closes this record's distribution (written last, `complete`):
    // a reader that meets this record above the watermark it knows reads that record instead of
    // the watermark, until it is at `txZxid` or later, or gone (`distributor/closing-record.ts`).
    closer: v.exactOptional(anyPath),
    // The node's ACL (the system store's copy is authoritative); absent: OPEN_ACL_UNSAFE. Kept in
    // the record so that readers check READ, and so that a later storage step can move records
    // without world READ out of the client-readable store.
    acl: v.exactOptional(v.array(aclEntry)),
    // A stub in the open zone of a node whose ACL lacks world:anyone READ: its Stat (and `ev`),
    // no data, no ACL; the record itself is in the protected zone, which only the functions read.
    protected: v.exactOptional(v.literal(true)),
  },
  'a node record must be an object',
);
/** A node as readers see it in the user store (see {@link NodeRecordSchema}). */
export type NodeRecord = v.InferOutput<typeof NodeRecordSchema>;

/** Result of one successful op of a multi. */
export const opResult = tagged('op', [
  record({ op: v.literal('create'), path: anyPath }),
  record({ op: v.literal('delete') }),
  record({ op: v.literal('setData'), stat }),
  record({ op: v.literal('check') }),
]);
/** Result of one successful op of a multi. */
export type OpResult = v.InferOutput<typeof opResult>;

/** What a successful request returns to its client. */
export const replyResult = tagged('type', [
  record({ type: v.literal('create'), path: anyPath, stat }),
  record({ type: v.literal('setData'), stat }),
  record({ type: v.literal('delete') }),
  record({ type: v.literal('multi'), results: v.array(opResult) }),
  record({ type: v.literal('sync') }),
  // `key`: the session's channel key wrapped under its session key (absent: channels unsealed).
  record({ type: v.literal('session'), timeoutMs: v.number(), key: v.exactOptional(v.string()) }),
  record({
    type: v.literal('resumed'),
    timeoutMs: v.number(),
    lastSeq: v.number(),
    key: v.exactOptional(v.string()),
  }),
  record({ type: v.literal('ping') }),
  record({ type: v.literal('closeSession') }),
  record({ type: v.literal('addWatch') }),
  record({ type: v.literal('removeWatches') }),
  // `children`: a protected node's children at its `pzxid`, when the read asked for them.
  record({
    type: v.literal('read'),
    record: v.nullable(NodeRecordSchema),
    children: v.exactOptional(v.array(v.string())),
  }),
  record({ type: v.literal('setACL'), stat }),
  // The identities the session gained (digest, and super when the digest is the deployment's).
  record({ type: v.literal('addAuth'), ids: v.array(aclId) }),
]);
/** What a successful request returns to its client. */
export type ReplyResult = v.InferOutput<typeof replyResult>;

export const replyError = record({
  code: errorCode,
  message: v.string(),
  path: v.exactOptional(v.string()),
  results: v.exactOptional(v.array(record({ code: errorCode }))),
});
/** Why a request failed: ZooKeeper's code, a message, and a failed multi's per-op results. */
export type ReplyError = v.InferOutput<typeof replyError>;

export const requesterFields = {
  session: sessionId,
  seq: natural('seq must be an integer ≥ 0'),
  // The incarnation to answer, when it is not the session's current one (a refused resume).
  inc: v.exactOptional(natural('inc must be an incarnation')),
};
export const requester = record(requesterFields);
/** Where a reply goes. */
export type Requester = v.InferOutput<typeof requester>;

/**
 * A child index entry of the user store: a child `name` of `parent` created at `czxid` and, for a
 * tombstone, deleted at `dzxid`. A name deleted and created again has one entry per life.
 */
export const childEntry = record({
  parent: anyPath,
  name: v.string(),
  czxid: zxid,
  dzxid: v.exactOptional(zxid),
});
/** A child index entry of the user store (see {@link childEntry}). */
export type ChildEntry = v.InferOutput<typeof childEntry>;

/** A change of one node record that the distributor applies to the user store. */
export const nodeWrite = tagged('put', [
  record({
    path: anyPath,
    put: v.literal(true),
    stat,
    // New data; absent when the txn did not change the node's data (e.g. a child was added).
    data: v.exactOptional(bytes),
    // The new data is null (`NullDataFlag`); only beside `data`, never on its own.
    nullData: v.exactOptional(v.literal(true)),
    // The node's ACL, on every put of a node whose ACL is not OPEN_ACL_UNSAFE.
    acl: v.exactOptional(v.array(aclEntry)),
    // The ACL changed between world-readable and protected: the record changes zone.
    moved: v.exactOptional(v.literal(true)),
  }),
  // `protected`: the deleted node's record is in the protected zone.
  record({ path: anyPath, put: v.literal(false), protected: v.exactOptional(v.literal(true)) }),
]);
/** A change of one node record that the distributor applies to the user store. */
export type NodeWrite = v.InferOutput<typeof nodeWrite>;

export const watchNotification = record({
  session: sessionId,
  type: watchEventType,
  path: anyPath,
  // Which of the session's watch classes this fires (the client fires its local watchers of these).
  classes: v.array(watchClass),
});
/** A watch notification for one session. */
export type WatchNotification = v.InferOutput<typeof watchNotification>;
