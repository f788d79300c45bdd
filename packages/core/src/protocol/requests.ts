/** What clients send the writer: the write request and its ops, as valibot schemas with derived types. */
import * as v from 'valibot';
import { SESSION_KEY_PATTERN } from '../session/auth.js';
import {
  aclList,
  createFields,
  createRules,
  int,
  natural,
  noNullData,
  nullDataRule,
  PROTOCOL_VERSION,
  path,
  persistentWatchMode,
  readWatchKind,
  record,
  setDataFields,
  show,
  tagged,
  version,
  watchClass,
} from './fields.js';

/** The most ops one multi may hold. */
export const MAX_MULTI_OPS = 1000;

/** One op of a multi, as the client sends it (data already encoded, defaults filled). */
export const MultiOpRequestSchema = tagged(
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
export const RequestOpSchema = tagged(
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
      // The session key (base64url of 32 bytes): every later request of the session is signed
      // with it (session/auth.ts). Only the writer reads this queue.
      key: v.pipe(
        v.string('openSession needs a session key'),
        v.regex(SESSION_KEY_PATTERN, 'the session key must be base64url of 32 bytes'),
      ),
      nullData: noNullData,
    }),
    record({ type: v.literal('closeSession'), nullData: noNullData }),
    // Another client (a gateway process) takes over an open session as its new incarnation.
    record({
      type: v.literal('resumeSession'),
      nullData: noNullData,
      incarnation: v.pipe(
        natural('incarnation must be a positive integer'),
        v.minValue(1, 'incarnation must be a positive integer'),
      ),
    }),
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
    record({ type: v.literal('setACL'), nullData: noNullData, path, acl: aclList, version }),
    record({
      type: v.literal('addAuth'),
      nullData: noNullData,
      scheme: v.string('addAuth needs a scheme'),
      // The credentials as ZooKeeper's auth packet carries them (for digest, "user:password").
      auth: v.pipe(v.string('addAuth needs auth'), v.maxLength(4096, 'auth is over 4096 characters')),
    }),
    record({
      type: v.literal('watchedRead'),
      nullData: noNullData,
      path,
      watch: readWatchKind,
      // A read of a protected node's data or children without a watch: READ is checked and the
      // distributor answers, but no watch is set (the node's record is out of the client's reach).
      unwatched: v.exactOptional(v.literal(true)),
      // getACL of a protected node: READ or ADMIN is checked, and the answer carries no data.
      acl: v.exactOptional(v.literal(true)),
    }),
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
export const SYSTEM_OPS: ReadonlySet<string> = new Set(['expireSession', 'expireTtl']);

/**
 * A request in the writer queue. `session` and `seq` identify it (the writer applies each
 * `(session, seq)` at most once); `ack` is the highest zxid the client has taken from its channel
 * (informational: ordered notifications no longer need it, see `epoch/`). Session 0 is the heartbeat's,
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
      // The incarnation of the session that sends it (absent: the one that opened it).
      inc: v.exactOptional(natural('inc must be an incarnation')),
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
