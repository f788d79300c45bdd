/** What the writer hands the distributor (a committed batch) and what a session's channel carries. */
import * as v from 'valibot';
import {
  anyPath,
  bytes,
  int,
  natural,
  PROTOCOL_VERSION,
  record,
  sessionId,
  show,
  tagged,
  watchClass,
  watchEventType,
  zxid,
} from './fields.js';
import {
  childEntry,
  nodeWrite,
  replyError,
  replyResult,
  requester,
  requesterFields,
  watchNotification,
} from './results.js';

export const sessionEnd = v.picklist(['EXPIRED', 'CLOSED'], 'bad session state');

/** An item of a {@link DistributorBatch}, in zxid order. */
export const distributorItem = tagged(
  'type',
  [
    record({
      type: v.literal('txn'),
      zxid,
      writes: v.array(nodeWrite),
      // The children the txn created (entries without `dzxid`) and deleted (the deleted life's
      // entry with `dzxid`), in the txn's order: the distributor writes them as index entries.
      kids: v.exactOptional(v.array(childEntry)),
      events: v.array(watchNotification),
      reply: v.exactOptional(record({ ...requesterFields, result: replyResult })),
      // Sessions the txn closed; each is told (EXPIRED or CLOSED) on its channel.
      closed: v.exactOptional(v.array(record({ session: sessionId, state: sessionEnd }))),
    }),
    // A session was resumed: its incarnation `from` is told MOVED (its client then removes its
    // channel); what follows in the batch goes to incarnation `to`.
    record({
      type: v.literal('moved'),
      zxid,
      session: sessionId,
      from: natural('bad incarnation'),
      to: natural('bad incarnation'),
    }),
    // A session that ended had replaced these incarnations: their channels go with it.
    record({
      type: v.literal('retired'),
      zxid,
      session: sessionId,
      incarnations: v.array(natural('bad incarnation')),
    }),
    record({
      type: v.literal('reply'),
      zxid,
      to: requester,
      result: v.exactOptional(replyResult),
      error: v.exactOptional(replyError),
    }),
    // `children`: answer the node's children with it when its record is in the protected zone.
    record({
      type: v.literal('read'),
      zxid,
      to: requester,
      path: anyPath,
      children: v.exactOptional(v.literal(true)),
      // getACL: the record without its data (ADMIN alone lets it through).
      aclOnly: v.exactOptional(v.literal(true)),
      // exists: the record's Stat only (exists needs no permission, so neither data nor ACL).
      statOnly: v.exactOptional(v.literal(true)),
    }),
  ],
  (issue) =>
    issue.expected === 'Object'
      ? 'batch item must be an object'
      : `unknown batch item type ${show(issue.input)}`,
);
/** An item of a {@link DistributorBatch}, in zxid order. */
export type DistributorItem = v.InferOutput<typeof distributorItem>;

/**
 * What the writer hands the distributor for one committed batch. `ev` is the zxid of the latest
 * transaction before the batch that sent a watch event (0: none): the distributor carries it on
 * through the batch's txns and stamps each record with the value at its own txn, so that a reader
 * knows whether an event up to the record may still be on its way to it (see `epoch/`). `zxid` is
 * the zxid after the batch: the watermark once the batch is applied.
 */
export const DistributorBatchSchema = record(
  {
    v: v.literal(PROTOCOL_VERSION, (issue) => `unsupported batch version ${show(issue.input, 50)}`),
    batch: int('batch must be an integer'),
    zxid,
    ev: v.exactOptional(natural('ev must be a zxid')),
    // A batch committed by a writer of the first layout, still in the queue across an upgrade:
    // its per-session map stands in for `ev` (its largest entry), so the batch is applied, not dropped.
    epoch: v.exactOptional(v.record(v.string(), v.number(), 'epoch must map sessions to zxids')),
    items: v.array(distributorItem, 'batch needs items'),
    // The incarnation of each resumed session the batch sends to, as the batch begins (absent: 0).
    routes: v.exactOptional(v.record(v.string(), v.number(), 'routes must map sessions to incarnations')),
  },
  'batch is not an object',
);
/** What the writer hands the distributor for one committed batch (see {@link DistributorBatchSchema}). */
export type DistributorBatch = v.InferOutput<typeof DistributorBatchSchema>;

/** Body of a message on a session's channel. */
export const channelBody = tagged(
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
    // MOVED: another client took the session over (ZooKeeper's SESSIONMOVED for this one).
    record({
      type: v.literal('session'),
      state: v.picklist(['EXPIRED', 'CLOSED', 'MOVED'], 'bad session state'),
    }),
    // Any of the above, sealed with the session's channel key (session/auth.ts).
    record({ type: v.literal('sealed'), box: bytes }),
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
