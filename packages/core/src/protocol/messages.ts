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

import * as v from 'valibot';
import { CreateMode, type NodeKind } from '../model/create-mode.js';
import { type ErrorCode, ErrorCodes } from '../model/errors.js';
import { MAX_DATA_BYTES } from '../model/limits.js';
import { pathProblem } from '../model/path.js';
import type { Stat } from '../model/stat.js';

/** Version of the formats below; a reader refuses what it does not know. */
export const PROTOCOL_VERSION = 1;

/**
 * Untrusted input quoted in an error: short, and never a throw. JSON.stringify throws on deeply
 * nested values, and an unbounded echo (quotes double in size at each encoding) could outgrow the
 * queue and channel limits and make the reply itself a poison message.
 */
function show(value: unknown, max = 100): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch {
    // Circular or too deeply nested: the type alone still tells the sender what was wrong.
    text = undefined;
  }
  text ??= `(${typeof value})`;
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

type Entries = v.ObjectEntries;

/**
 * An object schema whose missing-field message is the field's own (its schema run on `undefined`),
 * so "request needs an id" reads the same whether the id is absent or malformed.
 */
function record<const E extends Entries>(entries: E, notObject = 'must be an object') {
  return v.object(entries, (issue) => {
    const key = issue.path?.[0]?.origin === 'key' ? issue.path[0].key : undefined;
    if (typeof key !== 'string') return notObject;
    const field = entries[key];
    const missing = field === undefined ? undefined : v.safeParse(field, undefined).issues?.[0].message;
    return missing ?? `${key} is missing`;
  });
}

/** A safe integer; `what` is the whole refusal message. */
const int = (what: string) => v.pipe(v.number(what), v.safeInteger(what));
const natural = (what: string) => v.pipe(v.number(what), v.safeInteger(what), v.minValue(0, what));
const zxid = int('a zxid must be an integer');
const sessionId = natural('a session id must be an integer ≥ 0');
const version = v.pipe(
  v.number('version must be an integer ≥ -1'),
  v.safeInteger('version must be an integer ≥ -1'),
  v.minValue(-1, 'version must be an integer ≥ -1'),
);

/** A node path by ZooKeeper's rules (a create's path is checked with its mode, see `createRules`). */
const path = v.pipe(
  v.string((issue) => `path must be a string: ${show(issue.input, 200)}`),
  v.rawCheck(({ dataset, addIssue }) => {
    if (!dataset.typed) return;
    const problem = pathProblem(dataset.value);
    if (problem !== undefined) addIssue({ message: `${problem}: ${show(dataset.value, 200)}` });
  }),
);
/** A path as the distributor and readers see it: written by the writer, which checked it. */
const anyPath = v.string('path must be a string');

// Any Uint8Array, whatever its buffer (v.instance would narrow it to Uint8Array<ArrayBuffer>).
const bytes = v.custom<Uint8Array>((x) => x instanceof Uint8Array, 'data must be bytes');
/** Node data in a request: bytes, at most {@link MAX_DATA_BYTES}. */
const data = v.pipe(
  bytes,
  v.check(
    (d) => d.byteLength <= MAX_DATA_BYTES,
    (issue) => `data is ${(issue.input as Uint8Array).byteLength} bytes, over the limit of ${MAX_DATA_BYTES}`,
  ),
);

/**
 * Marks data that is ZooKeeper's null (`create(path, null, …)`, `setData(path, null, -1)`), not
 * empty bytes: `data` is then empty and reads answer null (length -1 on ZooKeeper's wire); Stat's
 * dataLength is 0 either way. Absent means not null, so the common case costs no bytes and records
 * written before the flag existed read as before.
 */
const nullData = v.exactOptional(
  v.literal(true, (issue) => `nullData must be true when present, not ${show(issue.input)}`),
);
/** Ops other than create and setData carry no data, so no null-data flag either. */
const noNullData = v.exactOptional(v.never('nullData is only allowed on create and setData'));

/**
 * The null-data flag of a create or setData: the data is ZooKeeper's null (`create(path, null, …)`),
 * `data` then being empty. Absent means not null.
 */
export interface NullDataFlag {
  nullData?: true;
}

/** Null data comes with empty bytes. */
function nullDataRule<T extends { data: Uint8Array; nullData?: true }>(): v.RawCheckAction<T> {
  return v.rawCheck<T>(({ dataset, addIssue }) => {
    if (dataset.typed && dataset.value.nullData === true && dataset.value.data.byteLength > 0)
      addIssue({ message: 'null data must come with empty bytes' });
  });
}

const createMode = v.picklist(
  Object.values(CreateMode),
  (issue) => `unknown create mode ${show(issue.input)}`,
);

/** A create's TTL goes with a TTL mode only; its path may end in '/' when the mode is sequential. */
function createRules<T extends { mode: CreateMode; ttlMs?: number; path: string }>(): v.RawCheckAction<T> {
  return v.rawCheck<T>(({ dataset, addIssue }) => {
    if (!dataset.typed) return;
    const { mode, ttlMs, path: p } = dataset.value;
    const ttl = mode.includes('TTL');
    if (ttl && !(ttlMs !== undefined && Number.isSafeInteger(ttlMs) && ttlMs > 0))
      addIssue({ message: 'a TTL mode needs ttlMs > 0' });
    else if (!ttl && ttlMs !== undefined) addIssue({ message: 'ttlMs is only allowed with a TTL mode' });
    else {
      const problem = pathProblem(p, mode.includes('SEQUENTIAL'));
      if (problem !== undefined) addIssue({ message: `${problem}: ${show(p, 200)}` });
    }
  });
}

/** The fields of a create, in a request or a multi (`path` is checked by `createRules`). */
const createFields = {
  mode: createMode,
  ttlMs: v.exactOptional(v.number('ttlMs must be a number')),
  path: v.string((issue) => `path must be a string: ${show(issue.input, 200)}`),
  data,
  nullData,
};
const setDataFields = { path, data, nullData, version };

const READ_WATCH_KINDS = ['data', 'exists', 'children'] as const;
const WATCH_CLASSES = ['data', 'children', 'persistent', 'recursive'] as const;
const WATCH_EVENT_TYPES = ['NodeCreated', 'NodeDeleted', 'NodeDataChanged', 'NodeChildrenChanged'] as const;
const PERSISTENT_WATCH_MODES = ['PERSISTENT', 'PERSISTENT_RECURSIVE'] as const;

const readWatchKind = v.picklist(READ_WATCH_KINDS, 'bad watch kind');
const watchClass = v.picklist(WATCH_CLASSES, 'bad watch classes');
const watchEventType = v.picklist(WATCH_EVENT_TYPES, 'bad watch event type');
const persistentWatchMode = v.picklist(PERSISTENT_WATCH_MODES, 'bad watch mode');

/** What a one-shot watch set by a read looks at. `exists` on a missing node waits for its creation. */
export type ReadWatchKind = v.InferOutput<typeof readWatchKind>;
/** Persistent watches set by `addWatch`. */
export type PersistentWatchMode = v.InferOutput<typeof persistentWatchMode>;
/** Watch classes as `removeWatches` sees them. */
export type WatchClass = v.InferOutput<typeof watchClass>;
/** The events a watch reports. */
export type WatchEventType = v.InferOutput<typeof watchEventType>;

/** The most ops one multi may hold. */
const MAX_MULTI_OPS = 1000;

/** One op of a multi, as the client sends it (data already encoded, defaults filled). */
export const MultiOpRequestSchema = v.variant(
  'op',
  [
    v.pipe(record({ op: v.literal('create'), ...createFields }), createRules(), nullDataRule()),
    record({ op: v.literal('delete'), path, nullData: noNullData, version }),
    v.pipe(record({ op: v.literal('setData'), ...setDataFields }), nullDataRule()),
    record({ op: v.literal('check'), path, nullData: noNullData, version }),
  ],
  (issue) =>
    issue.expected === 'Object' ? 'multi op must be an object' : `unknown multi op ${show(issue.input)}`,
);
/** One op of a multi (see {@link MultiOpRequestSchema}). */
export type MultiOpRequest = v.InferOutput<typeof MultiOpRequestSchema>;

/** The operation a {@link WriteRequest} asks for. */
export const RequestOpSchema = v.variant(
  'type',
  [
    // The most frequent ops first: a variant tries its options in order.
    v.pipe(record({ type: v.literal('setData'), ...setDataFields }), nullDataRule()),
    v.pipe(record({ type: v.literal('create'), ...createFields }), createRules(), nullDataRule()),
    record({ type: v.literal('delete'), nullData: noNullData, path, version }),
    record({
      type: v.literal('openSession'),
      timeoutMs: v.pipe(
        v.number('timeoutMs must be a positive integer'),
        v.safeInteger('timeoutMs must be a positive integer'),
        v.minValue(1, 'timeoutMs must be a positive integer'),
      ),
      nullData: noNullData,
    }),
    record({ type: v.literal('closeSession'), nullData: noNullData }),
    record({ type: v.literal('ping'), nullData: noNullData }),
    record({
      type: v.literal('multi'),
      nullData: noNullData,
      ops: v.pipe(
        v.array(v.unknown(), 'multi needs ops'),
        // Counted before any op is checked: a huge multi is refused without reading it through.
        v.maxLength(MAX_MULTI_OPS, `a multi holds at most ${MAX_MULTI_OPS} ops`),
        v.array(MultiOpRequestSchema),
      ),
    }),
    record({ type: v.literal('sync'), nullData: noNullData, path }),
    record({ type: v.literal('watchedRead'), nullData: noNullData, path, watch: readWatchKind }),
    record({ type: v.literal('addWatch'), nullData: noNullData, path, mode: persistentWatchMode }),
    record({
      type: v.literal('removeWatches'),
      nullData: noNullData,
      path,
      classes: v.array(watchClass, 'bad watch classes'),
    }),
    // Sent by the heartbeat, never by a client (session 0).
    record({
      type: v.literal('expireSession'),
      nullData: noNullData,
      target: int('target must be a session id'),
    }),
    record({
      type: v.literal('expireTtl'),
      nullData: noNullData,
      path,
      mzxid: int('mzxid must be an integer'),
    }),
  ],
  (issue) =>
    issue.expected === 'Object' ? 'request needs an op' : `unknown request type ${show(issue.input)}`,
);
/** The operation a {@link WriteRequest} asks for (see {@link RequestOpSchema}). */
export type RequestOp = v.InferOutput<typeof RequestOpSchema>;

/** Ops only the heartbeat sends, as session 0. */
const SYSTEM_OPS: ReadonlySet<string> = new Set(['expireSession', 'expireTtl']);

/**
 * A request in the writer queue. `session` and `seq` identify it (the writer applies each
 * `(session, seq)` at most once); `ack` is the highest zxid the client has taken from its channel,
 * which releases epoch entries (DESIGN.md §4, ordered notifications). Session 0 is the heartbeat's,
 * and only it sends the system ops.
 */
export const WriteRequestSchema = v.pipe(
  record(
    {
      v: v.literal(PROTOCOL_VERSION, (issue) => `unsupported protocol version ${show(issue.input)}`),
      session: natural('request needs session and seq'),
      seq: natural('request needs session and seq'),
      id: v.pipe(
        v.string('request needs an id'),
        v.minLength(1, 'request needs an id'),
        v.maxLength(200, 'request needs an id'),
      ),
      ack: v.exactOptional(int('ack must be a zxid')),
      op: RequestOpSchema,
    },
    'request must be an object',
  ),
  v.rawCheck(({ dataset, addIssue }) => {
    if (!dataset.typed) return;
    const { session, seq, op } = dataset.value;
    const system = SYSTEM_OPS.has(op.type);
    if (system !== (session === 0))
      addIssue({
        message: system ? 'system requests come from the heartbeat only' : 'session 0 is reserved',
      });
    else if (!system && seq === 0) addIssue({ message: 'seq starts at 1' });
  }),
);
/** A request in the writer queue (see {@link WriteRequestSchema}). */
export type WriteRequest = v.InferOutput<typeof WriteRequestSchema>;

/**
 * A node's metadata (ZooKeeper's `Stat`), as messages and records carry it. Typed as
 * {@link Stat}, so the model's declaration and this check must agree.
 */
const stat: v.GenericSchema<Stat> = record(
  {
    czxid: zxid,
    mzxid: zxid,
    pzxid: zxid,
    ctime: v.number(),
    mtime: v.number(),
    version: v.number(),
    cversion: v.number(),
    aversion: v.number(),
    ephemeralOwner: v.number(),
    dataLength: v.number(),
    numChildren: v.number(),
  },
  'stat must be an object',
);

const errorCode = v.picklist(Object.keys(ErrorCodes) as ErrorCode[], 'unknown error code');

/**
 * A node as readers see it in the user store. `nullData`: the data is ZooKeeper's null, `data` then
 * being empty (absent: not null); `txZxid`: the zxid of the last transaction that wrote the record
 * (create, setData, child change, delete); `epoch`: unacknowledged watch events per session at
 * write time (see {@link DistributorBatch}); `deleted`: a tombstone, the node was deleted at
 * `txZxid`, removed once the watermark covers it.
 */
export const NodeRecordSchema = record(
  {
    data: bytes,
    // The data is ZooKeeper's null, `data` then being empty (`NullDataFlag`); absent: not null.
    nullData: v.exactOptional(v.literal(true)),
    stat,
    children: v.array(v.string()),
    // zxid of the last transaction that wrote this record (create, setData, child change, delete).
    txZxid: zxid,
    // Unacknowledged watch events per session at write time (see the `epoch` of a `DistributorBatch`).
    epoch: v.exactOptional(v.record(v.string(), v.number())),
    // A tombstone: the node was deleted at `txZxid`; removed once the watermark covers it.
    deleted: v.exactOptional(v.boolean()),
  },
  'a node record must be an object',
);
/** A node as readers see it in the user store (see {@link NodeRecordSchema}). */
export type NodeRecord = v.InferOutput<typeof NodeRecordSchema>;

/** Result of one successful op of a multi. */
const opResult = v.variant('op', [
  record({ op: v.literal('create'), path: anyPath }),
  record({ op: v.literal('delete') }),
  record({ op: v.literal('setData'), stat }),
  record({ op: v.literal('check') }),
]);
/** Result of one successful op of a multi. */
export type OpResult = v.InferOutput<typeof opResult>;

/** What a successful request returns to its client. */
const replyResult = v.variant('type', [
  record({ type: v.literal('create'), path: anyPath, stat }),
  record({ type: v.literal('setData'), stat }),
  record({ type: v.literal('delete') }),
  record({ type: v.literal('multi'), results: v.array(opResult) }),
  record({ type: v.literal('sync') }),
  record({ type: v.literal('session'), timeoutMs: v.number() }),
  record({ type: v.literal('ping') }),
  record({ type: v.literal('closeSession') }),
  record({ type: v.literal('addWatch') }),
  record({ type: v.literal('removeWatches') }),
  record({ type: v.literal('read'), record: v.nullable(NodeRecordSchema) }),
]);
/** What a successful request returns to its client. */
export type ReplyResult = v.InferOutput<typeof replyResult>;

const replyError = record({
  code: errorCode,
  message: v.string(),
  path: v.exactOptional(v.string()),
  results: v.exactOptional(v.array(record({ code: errorCode }))),
});
/** Why a request failed: ZooKeeper's code, a message, and a failed multi's per-op results. */
export type ReplyError = v.InferOutput<typeof replyError>;

const requesterFields = { session: sessionId, seq: natural('seq must be an integer ≥ 0') };
const requester = record(requesterFields);
/** Where a reply goes. */
export type Requester = v.InferOutput<typeof requester>;

/** A change of one node record that the distributor applies to the user store. */
const nodeWrite = v.variant('put', [
  record({
    path: anyPath,
    put: v.literal(true),
    stat,
    children: v.array(v.string()),
    // New data; absent when the txn did not change the node's data (e.g. a child was added).
    data: v.exactOptional(bytes),
    // The new data is null (`NullDataFlag`); only beside `data`, never on its own.
    nullData: v.exactOptional(v.literal(true)),
  }),
  record({ path: anyPath, put: v.literal(false) }),
]);
/** A change of one node record that the distributor applies to the user store. */
export type NodeWrite = v.InferOutput<typeof nodeWrite>;

const watchNotification = record({
  session: sessionId,
  type: watchEventType,
  path: anyPath,
  // Which of the session's watch classes this fires (the client fires its local watchers of these).
  classes: v.array(watchClass),
});
/** A watch notification for one session. */
export type WatchNotification = v.InferOutput<typeof watchNotification>;

const sessionEnd = v.picklist(['EXPIRED', 'CLOSED'], 'bad session state');

/** An item of a {@link DistributorBatch}, in zxid order. */
const distributorItem = v.variant(
  'type',
  [
    record({
      type: v.literal('txn'),
      zxid,
      writes: v.array(nodeWrite),
      events: v.array(watchNotification),
      reply: v.exactOptional(record({ ...requesterFields, result: replyResult })),
      // Sessions the txn closed; each is told (EXPIRED or CLOSED) on its channel.
      closed: v.exactOptional(v.array(record({ session: sessionId, state: sessionEnd }))),
    }),
    record({
      type: v.literal('reply'),
      zxid,
      to: requester,
      result: v.exactOptional(replyResult),
      error: v.exactOptional(replyError),
    }),
    record({ type: v.literal('read'), zxid, to: requester, path: anyPath }),
  ],
  (issue) =>
    issue.expected === 'Object'
      ? 'batch item must be an object'
      : `unknown batch item type ${show(issue.input)}`,
);
/** An item of a {@link DistributorBatch}, in zxid order. */
export type DistributorItem = v.InferOutput<typeof distributorItem>;

/**
 * What the writer hands the distributor for one committed batch. `epoch` maps a session to the
 * highest zxid of a watch event sent to it that it has not yet acknowledged: every record the
 * distributor writes carries it, so a reader of that record waits for the event first. `zxid` is
 * the zxid after the batch: the watermark once the batch is applied.
 */
export const DistributorBatchSchema = record(
  {
    v: v.literal(PROTOCOL_VERSION, (issue) => `unsupported batch version ${show(issue.input, 50)}`),
    batch: int('batch must be an integer'),
    zxid,
    epoch: v.record(v.string(), v.number(), 'epoch must map sessions to zxids'),
    items: v.array(distributorItem, 'batch needs items'),
  },
  'batch is not an object',
);
/** What the writer hands the distributor for one committed batch (see {@link DistributorBatchSchema}). */
export type DistributorBatch = v.InferOutput<typeof DistributorBatchSchema>;

/** Body of a message on a session's channel. */
const channelBody = v.variant(
  'type',
  [
    record({
      type: v.literal('reply'),
      seq: natural('seq must be an integer ≥ 0'),
      result: v.exactOptional(replyResult),
      error: v.exactOptional(replyError),
    }),
    record({
      type: v.literal('event'),
      event: record({ type: watchEventType, path: anyPath }),
      classes: v.array(watchClass),
    }),
    record({ type: v.literal('session'), state: sessionEnd }),
  ],
  (issue) =>
    issue.expected === 'Object' ? 'body must be an object' : `unknown channel message ${show(issue.input)}`,
);
/** Body of a message on a session's channel. */
export type ChannelBody = v.InferOutput<typeof channelBody>;

/**
 * A message on a session's channel. `order` is `[batch, index]`, strictly increasing per session
 * and identical on redelivery, so the client drops duplicates; `zxid` is the change it reports;
 * `wm` the watermark the user store has reached when it was sent.
 */
export const ChannelMessageSchema = record(
  {
    v: v.literal(PROTOCOL_VERSION, (issue) => `unsupported channel message version ${show(issue.input, 50)}`),
    order: v.tuple(
      [int('order must be [batch, index]'), int('order must be [batch, index]')],
      'order must be [batch, index]',
    ),
    zxid,
    wm: int('wm must be a zxid'),
    body: channelBody,
  },
  'channel message is not an object',
);
/** A message on a session's channel (see {@link ChannelMessageSchema}). */
export type ChannelMessage = v.InferOutput<typeof ChannelMessageSchema>;

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
