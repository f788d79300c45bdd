/**
 * The writer's redo log: a chunk is committed by ONE conditional put of the writer state item that
 * carries the chunk's item ops (the log), and the ops are applied afterwards as single-item writes.
 * A single-item write bills half of a transaction's item (DynamoDB: 1 write unit per KB instead of
 * 2), and the commit touches one item instead of three or more.
 *
 * Guarantees kept:
 * - atomicity and durability: the commit is the state put; once it took effect every op of the
 *   chunk is in the log, and whoever reads the state next (the retry after a crash, the next
 *   invocation) applies what is missing before it reads any item ({@link replayLog});
 * - idempotence: each op carries the item's final value and the version it was logged against; an
 *   op is written only while its item is still at that version (absent for a creation), so
 *   applying a log twice, or a log an item has already moved past, changes nothing;
 * - linearized writes: the state put keeps its version condition, so two racing invocations cannot
 *   both commit; the log of the latest commit is applied before the next commit is made, so every
 *   older log is fully applied.
 *
 * Only items no one but the writer writes may go through the log ({@link loggable}): a lease item
 * is renewed by clients, and an expiry must be committed on the lease version it read (a renewal
 * racing the expiry wins), which needs the transaction. Chunks touching such items keep it; a
 * chunk too big for one transaction (a session closing with many ephemerals) is committed as one
 * transaction of those items and the state put carrying the rest as the log ({@link splitLog}):
 * the lease's version condition and the commit's atomicity hold as before.
 */
import { Buffer } from 'node:buffer';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { ConditionFailedError } from '../ports/errors.js';
import type { ItemKey, SystemItem, SystemStore, TransactOp } from '../ports/system-store.js';
import type { LoggedOp, WriterState } from '../protocol/messages.js';
import { LEASE_FOLD_ID } from '../session/lease-inbox.js';

/** Id of the writer's own item in the system store. */
export const WRITER_STATE_ID = 'writer';

const keyOf = (k: ItemKey) => `${k.kind}\u0000${k.id}`;

/**
 * Whether `op` may be committed through the log: an item only the writer writes (nodes, sessions,
 * the TTL index, the writer's own meta items). Leases and the heartbeat's lease fold are not.
 */
function writerOwned(op: TransactOp): boolean {
  if (op.kind === 'node' || op.kind === 'session' || op.kind === 'ttl') return true;
  return op.kind === 'meta' && op.id !== LEASE_FOLD_ID && op.id !== WRITER_STATE_ID;
}

/**
 * The chunk's ops as a log, or `undefined` when one of them needs the transaction. The last op is
 * the log's sentinel ({@link applyLog}): a session's item when there is one, as the next batch
 * (mostly the same client's) reads that item anyway.
 */
export function loggable(ops: readonly TransactOp[]): LoggedOp[] | undefined {
  const { log, direct } = splitLog(ops);
  return direct.length === 0 ? log : undefined;
}

/** Whether `op` alone may go through the log: a versioned write of an item only the writer writes. */
export function logEligible(
  op: TransactOp,
): op is Exclude<TransactOp, { type: 'check' }> & { expect: number | 'absent' } {
  return writerOwned(op) && op.type !== 'check' && op.expect !== 'any';
}

/**
 * The chunk's ops split in two: those that may go through the log (with its sentinel last, see
 * {@link loggable}), and those that must stay in the commit's transaction (leases, the lease fold,
 * checks). Committed as one transaction of the direct ops and the state put carrying the log, the
 * chunk is still atomic (the transaction), and a lease op keeps its version condition, so a
 * renewal racing an expiry still fails the commit; only the direct ops count against the store's
 * items per transaction. The writer uses it when the whole chunk would not fit one transaction:
 * a session closing with more ephemerals than a transaction takes.
 */
export function splitLog(ops: readonly TransactOp[]): { log: LoggedOp[]; direct: TransactOp[] } {
  const log: LoggedOp[] = [];
  const direct: TransactOp[] = [];
  for (const op of ops) {
    if (!logEligible(op)) direct.push(op);
    else
      log.push(
        op.type === 'put'
          ? { type: 'put', kind: op.kind, id: op.id, value: op.value, expect: op.expect }
          : { type: 'delete', kind: op.kind, id: op.id, expect: op.expect },
      );
  }
  const session = log.findIndex((op) => op.kind === 'session');
  if (session >= 0) log.push(...log.splice(session, 1));
  return { log, direct };
}

/** The store op that applies a logged op. */
function opOf(op: LoggedOp): TransactOp {
  return op.type === 'put'
    ? { type: 'put', kind: op.kind, id: op.id, value: op.value, expect: op.expect }
    : { type: 'delete', kind: op.kind, id: op.id, expect: op.expect };
}

/** The item after `op` took effect. */
function after(op: LoggedOp): SystemItem | undefined {
  if (op.type === 'delete') return undefined;
  return { kind: op.kind, id: op.id, version: op.expect === 'absent' ? 1 : op.expect + 1, value: op.value };
}

/** Whether `item` (as read) is still where `op` was logged against: the op is not applied yet. */
function pending(op: LoggedOp, item: SystemItem | undefined): boolean {
  return op.expect === 'absent' ? item === undefined : item?.version === op.expect;
}

/**
 * Applies logged ops, each as one conditional single-item write: all but the last at once (they
 * touch distinct items), then the last, the log's sentinel — so a sentinel found applied says the
 * whole log is, and a replay reads one item to know it ({@link replayLog}). An op whose condition
 * fails was applied already (by an earlier attempt or a racing invocation that replayed the same
 * log): nothing to do for it.
 */
export async function applyLog(
  store: SystemStore,
  ops: readonly LoggedOp[],
  log: (message: string, details?: Record<string, unknown>) => void,
): Promise<void> {
  const one = async (op: LoggedOp) => {
    try {
      await store.transact([opOf(op)]);
    } catch (error) {
      if (!(error instanceof ConditionFailedError)) throw error;
      // Safe to drop: the item moved past the version the op was logged against, so another
      // invocation applied this same log (a later one cannot exist before this one is applied).
      log('writer: a logged op was applied already', { kind: op.kind, id: op.id, reason: error.message });
    }
  };
  await Promise.all(ops.slice(0, -1).map(one));
  const sentinel = ops.at(-1);
  if (sentinel !== undefined) await one(sentinel);
}

/**
 * Brings the store up to the latest commit before anything reads it: reads the items of `ops`
 * (the log of the state just read), applies the ops still pending, and returns every one of those
 * items as it now stands, so the first chunk's overlay need not read them again.
 */
export async function replayLog(
  store: SystemStore,
  ops: readonly LoggedOp[],
  log: (message: string, details?: Record<string, unknown>) => void,
): Promise<Map<string, SystemItem | undefined>> {
  const known = new Map<string, SystemItem | undefined>();
  const sentinel = ops.at(-1);
  if (sentinel === undefined) return known;
  // The sentinel is written last: found applied (or moved past), the whole log is applied.
  const found = await store.get({ kind: sentinel.kind, id: sentinel.id });
  if (!pending(sentinel, found)) {
    if (sameAsAfter(sentinel, found)) known.set(keyOf(sentinel), after(sentinel));
    return known;
  }
  const items = await store.getMany(ops.map((op) => ({ kind: op.kind, id: op.id })));
  const missing = ops.filter((op, i) => pending(op, items[i]));
  if (missing.length > 0) {
    log('writer: replaying the unapplied part of the last commit', { ops: missing.length });
    // `missing` keeps the log's order: the sentinel (pending) stays last.
    await applyLog(store, missing, log);
  }
  ops.forEach((op, i) => {
    // Applied now, or found applied: the item is as the op left it. An item found past that (the
    // op was applied and a racing invocation moved on) is left for the overlay to read.
    const item = items[i];
    if (pending(op, item) || sameAsAfter(op, item)) known.set(keyOf(op), after(op));
  });
  return known;
}

function sameAsAfter(op: LoggedOp, item: SystemItem | undefined): boolean {
  const done = after(op);
  return done === undefined ? item === undefined : item?.version === done.version;
}

/**
 * Reads items of one kind through the writer's log: the listed items with the log's ops of that
 * kind laid over them. For readers outside the writer (the heartbeat) that decide on node or
 * session items: between a commit and its application (a crash there, until the retry replays)
 * the log holds the newer values.
 */
export function readThroughLog<T>(
  items: readonly SystemItem<T>[],
  kind: ItemKey['kind'],
  ops: readonly LoggedOp[] | undefined,
): SystemItem<T>[] {
  if (ops === undefined || !ops.some((op) => op.kind === kind)) return [...items];
  const byId = new Map(items.map((i) => [i.id, i]));
  for (const op of ops) {
    if (op.kind !== kind) continue;
    const current = byId.get(op.id);
    // The item moved past the op already (the log was applied and the item written since).
    if (!pending(op, current)) continue;
    const done = after(op) as SystemItem<T> | undefined;
    if (done === undefined) byId.delete(op.id);
    else byId.set(op.id, done);
  }
  return [...byId.values()];
}

/**
 * Replaces every byte array in `value` by `{ $b: index }` into `parts` (and back with `parts`
 * given): node data stays raw bytes, out of the compressed text.
 */
function bytesOut(value: unknown, parts: Uint8Array[]): unknown {
  if (value instanceof Uint8Array) {
    parts.push(value);
    return { $b: parts.length - 1 };
  }
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => bytesOut(v, parts));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = bytesOut(v, parts);
  return out;
}

function bytesIn(value: unknown, parts: readonly Uint8Array[]): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => bytesIn(v, parts));
  const o = value as Record<string, unknown>;
  const keys = Object.keys(o);
  if (keys.length === 1 && keys[0] === '$b' && typeof o.$b === 'number') return parts[o.$b];
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) out[k] = bytesIn(v, parts);
  return out;
}

/** Whether some object in `value` has a `$b` key of its own (none does today): not packed then. */
function hasMarker(value: unknown): boolean {
  if (value === null || typeof value !== 'object' || value instanceof Uint8Array) return false;
  if (Array.isArray(value)) return value.some(hasMarker);
  if (Object.hasOwn(value, '$b')) return true;
  return Object.values(value).some(hasMarker);
}

/**
 * The writer state as stored: the last batch, the log and the child Stats (`last`, `log`,
 * `childStats`) as one deflated JSON text,
 * their byte arrays (node data) kept raw beside it. Their structure repeats itself — a 1 KiB
 * setData holds the node's stat three times (its record, its reply, its logged item), ids, field
 * names — and the text shrinks from about 1 KB to 0.5 KB, which decides whether the state bills
 * 2 or 3 DynamoDB write units. Node data is not compressed: what a client writes may not shrink,
 * and the figure must not depend on it. Only the writer and the heartbeat read these fields
 * ({@link unpackState}).
 */
export function packState(state: WriterState): WriterState {
  const { last, log, childStats, packed: _old, ...rest } = state;
  if ((last === undefined && log === undefined && childStats === undefined) || hasMarker([last, log]))
    return state;
  const parts: Uint8Array[] = [];
  const text = JSON.stringify(bytesOut({ last, log, childStats }, parts));
  return { ...rest, packed: { z: new Uint8Array(deflateRawSync(Buffer.from(text, 'utf8'))), b: parts } };
}

/** The writer state as it was before {@link packState}. */
export function unpackState(state: WriterState): WriterState {
  const { packed, ...rest } = state;
  if (packed === undefined) return state;
  const text = inflateRawSync(packed.z).toString('utf8');
  const { last, log, childStats } = bytesIn(JSON.parse(text), packed.b) as Pick<
    WriterState,
    'last' | 'log' | 'childStats'
  >;
  if (last !== undefined) rest.last = last;
  if (log !== undefined) rest.log = log;
  if (childStats !== undefined) rest.childStats = childStats;
  return rest;
}
