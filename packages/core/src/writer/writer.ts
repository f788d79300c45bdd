/**
 * The writer function (ZooKeeper's leader), its batch loop: decode the queue's messages, hand on
 * again a batch whose commit already took effect, cut the rest into chunks that fit the store and
 * the distributor queue, commit each chunk together with the writer's own state (one conditional
 * put of the state carrying the chunk's item writes as its redo log, or one conditional
 * transaction: `redo-log.ts`), and forward it to the distributor. What a request does is applied by the
 * tree, watch, session and epoch modules (see `requests.ts`).
 *
 * Guarantees kept: linearized writes (one ordered stream, zxids assigned at commit and committed
 * with the writer state, so two racing invocations cannot both commit); atomicity of each chunk;
 * durability and exactly-once application under retry (a committed batch is recognised by its
 * message ids and handed on again, never applied twice).
 */
import { withoutEpochMap } from '../epoch/pending-events.js';
import { type Clock, systemClock } from '../ports/clock.js';
import { ConditionFailedError, LimitExceededError, TransientError } from '../ports/errors.js';
import type { Queue } from '../ports/queue.js';
import type { BatchHandler, BatchResult, InvocationContext } from '../ports/runtime.js';
import type { SystemItem, SystemStore, TransactOp } from '../ports/system-store.js';
import { encodeMessage } from '../protocol/codec.js';
import { inProcessMessage } from '../protocol/in-process.js';
import type { DistributorBatch, WriterState } from '../protocol/messages.js';
import { removeEndedWatches, watchWorkLeft } from '../watch/ended-sessions.js';
import { ChunkBudget } from './batch-size.js';
import { settleChildStats, writerOverlay } from './child-stats.js';
import { Chunk } from './chunk.js';
import { decodeIncoming, type Incoming, prefetchKeys } from './incoming.js';
import {
  applyLog,
  loggable,
  packState,
  replayLog,
  splitLog,
  unpackState,
  WRITER_STATE_ID,
} from './redo-log.js';
import { applyRequest, refuse } from './requests.js';

/** The writer queue has one message group: one total order of all writes (DESIGN.md §4). */
export const WRITER_GROUP = 'writer';
/** The distributor queue likewise. */
export const DISTRIBUTOR_GROUP = 'distributor';
export { WRITER_STATE_ID } from './redo-log.js';

export interface WriterOptions {
  systemStore: SystemStore;
  /**
   * Where committed batches go when there is no {@link WriterOptions.distribute}: the distributor
   * function's queue (one message group, so batches keep their order).
   */
  distributorQueue?: Queue;
  /**
   * The distributor, called in the writer's own invocation with each batch right after its commit
   * (inline distribution): no distributor queue message, receive, delete or invocation per batch.
   * Order holds because the writer runs one batch at a time in queue order and distributes a batch
   * before it commits the next; a crash between the commit and the end of the distribution has
   * the writer's messages redelivered, and the retry hands the committed batch on again (the
   * distributor is idempotent). Absent: batches go to `distributorQueue`.
   */
  distribute?: BatchHandler;
  clock?: Clock;
  /** Clocks of different functions differ by up to this much; expiry waits it out. */
  clockSkewMs?: number;
  /**
   * The deployment's super digest, `super:<base64 sha1("super:password")>` (ZooKeeper's
   * `zookeeper.DigestAuthenticationProvider.superDigest`): a session that authenticates with its
   * password gets every permission on every node. Absent: no super user.
   */
  superDigest?: string;
  /**
   * The key the deployment's gateways attest client addresses with (`attestAddress`): a session
   * gets the ip identity a gateway attests for it, for `ip` ACL entries. Absent: no session has
   * an ip identity, and ip entries match nobody.
   */
  gatewayKey?: string;
  /**
   * The deployment's channel secret, shared with the distributor: the writer hands each session
   * its channel key, derived from it, in the open and resume replies (session/auth.ts). Absent:
   * channels are not sealed.
   */
  channelSecret?: string;
  /** Where the writer reports dropped poison messages and retries. */
  log?: (message: string, details?: Record<string, unknown>) => void;
}

/** A fresh writer state (before the first batch). */
export function initialWriterState(): WriterState {
  return { zxid: 0, batch: 0 };
}

/**
 * How the loop cuts its next chunk. After a commit over a store limit the chunk is halved until it
 * holds one request, which is then refused alone; the cap stays for the rest of the invocation.
 */
type Narrowing = { mode: 'open' } | { mode: 'capped'; cap: number } | { mode: 'refuse'; problem: string };

/** Where the batch loop stands between two commits. */
interface LoopState {
  /** Requests not committed yet, in queue order. */
  pending: readonly Incoming[];
  /** The writer state as last committed, and its item version (the next commit's condition). */
  committed: { state: WriterState; version: number };
  narrowing: Narrowing;
  /**
   * Items the replay of the last commit's log just read or wrote, as they now stand: handed to the
   * first chunk's overlay, so that it does not read them again (the log's items are mostly the
   * next batch's too: the same session, often the same node). Used once.
   */
  known?: Map<string, SystemItem | undefined>;
}

/**
 * Waits for both, then throws the first failure: neither is left running when the invocation
 * fails (a write still under way could land while the retry replays).
 */
async function settleBoth(a: Promise<void>, b: Promise<void>): Promise<void> {
  const [x, y] = await Promise.allSettled([a, b]);
  if (x.status === 'rejected') throw x.reason;
  if (y.status === 'rejected') throw y.reason;
}

/** The items the loop knows, handed over once. */
function takeKnown(loop: LoopState): Map<string, SystemItem | undefined> | undefined {
  const known = loop.known;
  delete loop.known;
  return known;
}

/** The narrowing after a commit of `taken` requests failed over a store limit. */
function narrowAfterLimit(taken: number, reason: string): Narrowing {
  return taken > 1
    ? { mode: 'capped', cap: Math.ceil(taken / 2) }
    : { mode: 'refuse', problem: reason.slice(0, 300) };
}

/**
 * Creates the writer: validates each request against the system store, assigns zxids, commits a
 * batch in one conditional transaction together with its own state, and hands the committed batch
 * to the distributor. Idempotent under retry: a batch whose commit took effect is recognised by
 * its request ids and handed on again rather than applied twice.
 */
export function createWriter(options: WriterOptions): BatchHandler {
  const clock = options.clock ?? systemClock;
  const skew = options.clockSkewMs ?? 1000;
  const store = options.systemStore;
  const log = options.log ?? (() => {});
  const auth = {
    superDigest: options.superDigest,
    gatewayKey: options.gatewayKey,
    channelSecret: options.channelSecret,
  };
  const maxItems = store.capabilities.maxTransactionItems;
  // Packing shrinks the state item only to bill fewer write units; where size bills nothing it is
  // CPU spent for no gain (unpackState reads either form).
  const pack = store.capabilities.writesBilledBySize === false ? (s: WriterState) => s : packState;
  const { distribute, distributorQueue } = options;
  if (distribute === undefined && distributorQueue === undefined)
    throw new TypeError('createWriter: give distribute or distributorQueue');
  // A committed batch is kept in the writer's state item, and travels as one distributor message
  // when it goes through the queue.
  const maxBytes = Math.min(
    distribute === undefined
      ? (distributorQueue as Queue).capabilities.maxMessageBytes
      : Number.POSITIVE_INFINITY,
    store.capabilities.maxItemBytes,
  );

  /** Hands a committed batch to the distributor: in this invocation, or through its queue. */
  async function forward(
    batch: number,
    output: DistributorBatch | string,
    context: InvocationContext,
    appliedThrough?: number,
  ): Promise<void> {
    const id = `batch-${batch}`;
    if (distribute === undefined) {
      const body = typeof output === 'string' ? output : encodeMessage(output);
      await (distributorQueue as Queue).send([{ body, group: DISTRIBUTOR_GROUP, dedupId: id }]);
      return;
    }
    const fields = { id, group: DISTRIBUTOR_GROUP, attempt: 1, receipt: id };
    // In this invocation the batch goes as the object, encoded only if something reads the body
    // (protocol/in-process.ts); a state from before `output` was kept has only the text.
    const message =
      typeof output === 'string' ? { ...fields, body: output } : inProcessMessage(fields, output);
    // A batch committed just now: the distributor knows how far the store is applied without reading it.
    const result = await distribute([message], {
      deadline: context.deadline,
      functionName: 'distributor',
      ...(appliedThrough === undefined ? {} : { appliedThrough }),
    });
    // The distributor reports no partial failure today; if it did, the committed batch must not
    // count as handed on: the writer's messages come back and the retry hands it on again.
    if (result.failed.length > 0) throw new TransientError(`the distributor failed batch ${batch}`);
  }

  /**
   * Commits `ops` together with the writer state `next`, on the condition that the writer state is
   * still at `version`: when every op is on an item only the writer writes, by one conditional put
   * of the state carrying the ops as its log, then the ops applied one item each (redo-log.ts);
   * otherwise in one transaction. Returns the state as committed; its log, if any, is still to be
   * applied ({@link applyLog}) before the next commit.
   * @throws TransientError when another writer invocation committed meanwhile (a retry racing a
   * slow attempt): the batch starts over from the new state.
   */
  async function commit(ops: TransactOp[], next: WriterState, version: number): Promise<WriterState> {
    const { log: _previous, ...rest } = next;
    const whole = store.capabilities.transactionsCostMore === false ? undefined : loggable(ops);
    // A chunk too big for one transaction (a close of a session with many ephemerals: ChunkBudget
    // lets only such a request through alone) puts what it can in the log, the rest (its lease) in
    // the transaction beside the state: one commit, one zxid, whatever the store's item limit.
    const { log: redo, direct } =
      whole !== undefined
        ? { log: whole, direct: [] }
        : ops.length + 1 > maxItems
          ? splitLog(ops)
          : { log: [], direct: ops };
    const state: WriterState = redo.length === 0 ? rest : { ...rest, log: redo };
    try {
      await store.transact([
        ...direct,
        { type: 'put', kind: 'meta', id: WRITER_STATE_ID, value: pack(state), expect: version },
      ]);
    } catch (error) {
      if (!(error instanceof ConditionFailedError)) throw error;
      log('writer: commit conflict, retrying the batch', { reason: error.message });
      throw new TransientError('writer commit conflict', error);
    }
    return state;
  }

  /** A retried batch whose commit took effect: hands its output on again; returns the rest. */
  async function handOnCommitted(
    incoming: Incoming[],
    state: WriterState,
    context: InvocationContext,
  ): Promise<Incoming[]> {
    if (state.last === undefined) return incoming;
    const done = new Set(state.last.ids);
    // A redelivery means an earlier attempt failed, maybe between its commit and its forward,
    // even when none of these requests is in that batch (a retry split the batch): hand it on.
    const redelivered = incoming.some((i) => i.message.attempt > 1);
    if (!redelivered && !incoming.some((i) => done.has(i.message.id))) return incoming;
    const { output, body } = state.last;
    if (output !== undefined) await forward(output.batch, output, context);
    else if (body !== undefined) await forward(state.last.batch, body, context);
    return incoming.filter((i) => !done.has(i.message.id));
  }

  /** Applies as many pending requests as one chunk takes; returns the chunk and how many. */
  async function fillChunk(loop: LoopState): Promise<{ chunk: Chunk; taken: number }> {
    // A shallow copy is the chunk's own: nested parts are only replaced (see `Chunk.snapshot`).
    const { last: _last, log: _log, ...live } = loop.committed.state;
    const chunk = new Chunk(writerOverlay(store, takeKnown(loop), live.childStats), live, clock, skew, auth);
    await chunk.overlay.prefetch(prefetchKeys(loop.pending));
    if (loop.narrowing.mode === 'refuse') {
      const { problem } = loop.narrowing;
      await refuse(
        chunk,
        loop.pending[0]!,
        `the request's changes exceed a limit of the system store: ${problem}`,
      );
      log('writer: refused a request over a store limit', { problem });
      return { chunk, taken: 1 };
    }
    const cap = loop.narrowing.mode === 'capped' ? loop.narrowing.cap : Number.POSITIVE_INFINITY;
    const budget = new ChunkBudget(maxItems, maxBytes, store.capabilities.transactionsCostMore !== false);
    let taken = 0;
    for (const item of loop.pending) {
      if (taken >= cap) break;
      const before = chunk.overlay.checkpoint();
      const snapshot = chunk.snapshot();
      await applyRequest(chunk, item);
      const settled = settleChildStats(chunk);
      if (settled instanceof Promise) await settled;
      // Only a request that ends a session (a close, an expiry) may outgrow one store transaction,
      // alone in its chunk: ZooKeeper deletes all of a session's ephemerals at one zxid, however
      // many. Any other request over the limit (a multi) is still refused whole.
      const endsSession = chunk.endedRoutes.size > snapshot.endedRoutes;
      const problem = budget.overflow(chunk, snapshot.items, taken === 0 && endsSession);
      if (problem !== undefined) {
        chunk.overlay.rollback(before);
        chunk.restore(snapshot);
        // A request that alone exceeds a limit is refused; otherwise it waits for the next chunk.
        if (taken === 0) {
          await refuse(chunk, item, problem);
          taken = 1;
        }
        break;
      }
      taken++;
    }
    return { chunk, taken };
  }

  /** Commits and forwards the next chunk; returns where the loop stands after it. */
  async function commitNextChunk(loop: LoopState, context: InvocationContext): Promise<LoopState> {
    const { chunk, taken } = await fillChunk(loop);
    const ids = loop.pending.slice(0, taken).map((i) => i.message.id);
    const output = chunk.output();
    let next: WriterState = {
      ...chunk.state,
      batch: output.batch,
      last: { ids, batch: output.batch, output },
    };
    try {
      next = await commit(chunk.overlay.commitOps(), next, loop.committed.version);
    } catch (error) {
      if (error instanceof LimitExceededError && loop.narrowing.mode !== 'refuse') {
        // A request of the chunk makes an item or the transaction too big for the store: narrow
        // the chunk. Failing the batch instead would have it retried forever, blocking the queue.
        log('writer: commit over a store limit, narrowing the chunk', { reason: error.message });
        return { ...loop, narrowing: narrowAfterLimit(taken, error.message) };
      }
      throw error;
    }
    // Committed. The log's item writes and the distribution go at once (the distributor reads no
    // system-store item); the next batch (next chunk, or next invocation: the queue holds it back)
    // starts after both. A failure fails the invocation; the retry replays and hands it on again.
    await settleBoth(
      applyLog(store, next.log ?? [], log),
      forward(output.batch, output, context, loop.committed.state.zxid),
    );
    return {
      pending: loop.pending.slice(taken),
      committed: { state: next, version: loop.committed.version + 1 },
      narrowing: loop.narrowing.mode === 'refuse' ? { mode: 'open' } : loop.narrowing,
    };
  }

  /**
   * Removes watch registrations of ended sessions (`watchCleanup`) in a commit of its own: no zxid,
   * nothing for the distributor, `last` kept for a retry. Returns `undefined` once nothing moves.
   */
  async function commitWatchCleanup(loop: LoopState, forwarded: boolean): Promise<LoopState | undefined> {
    const { last: kept, log: _log, ...live } = loop.committed.state;
    // After this invocation forwarded the last batch, a retry needs only its ids (to skip its
    // requests), not its output: a state rewritten here does not carry a fire's M events again.
    const last = forwarded && kept !== undefined ? { ids: kept.ids, batch: kept.batch } : kept;
    const chunk = new Chunk(writerOverlay(store, takeKnown(loop), live.childStats), live, clock, skew, auth);
    // One item of the transaction is the writer's own.
    await removeEndedWatches(chunk, maxItems - 1);
    const statsMoved = await settleChildStats(chunk);
    const ops = chunk.overlay.commitOps();
    const next: WriterState = last === undefined ? chunk.state : { ...chunk.state, last };
    const stateChanged = statsMoved || watchWorkLeft(next) !== watchWorkLeft(loop.committed.state);
    if (ops.length === 0 && !stateChanged) return undefined;
    // Only items go (a page of a fired generation): the state, whose `last` may hold a large
    // batch, is checked rather than rewritten, so removing M registrations never rewrites it M/98
    // times. Not while the state still carries a log: a later replay must find every item of that
    // log as the log left it or moved on by a commit that replaced the log, never deleted under it.
    if (!stateChanged && (loop.committed.state.log ?? []).length === 0) {
      const check: TransactOp = {
        type: 'check',
        kind: 'meta',
        id: WRITER_STATE_ID,
        expect: loop.committed.version,
      };
      try {
        await store.transact([...ops, check]);
      } catch (error) {
        if (!(error instanceof ConditionFailedError)) throw error;
        log('writer: cleanup commit conflict, retrying the batch', { reason: error.message });
        throw new TransientError('writer commit conflict', error);
      }
      return loop;
    }
    const committed = await commit(ops, next, loop.committed.version);
    await applyLog(store, committed.log ?? [], log);
    return { ...loop, committed: { state: committed, version: loop.committed.version + 1 } };
  }

  return async (messages, context): Promise<BatchResult> => {
    const incoming = messages.map(decodeIncoming);
    const stateItem = await store.get<WriterState>({ kind: 'meta', id: WRITER_STATE_ID });
    if (stateItem === undefined)
      throw new TransientError('writer state missing: the deployment is not bootstrapped');
    const state = unpackState(withoutEpochMap(stateItem.value));
    // The last commit's log may not be applied (a crash right after the state put): apply what is
    // missing before any item is read, and before its batch is handed on again.
    const known = await replayLog(store, state.log ?? [], log);
    let loop: LoopState = {
      pending: await handOnCommitted(incoming, state, context),
      committed: { state, version: stateItem.version },
      narrowing: { mode: 'open' },
      known,
    };
    const forwarded = loop.pending.length > 0;
    while (loop.pending.length > 0) loop = await commitNextChunk(loop, context);
    while (watchWorkLeft(loop.committed.state) !== '') {
      const next = await commitWatchCleanup(loop, forwarded);
      if (next === undefined) break;
      loop = next;
    }
    for (const i of incoming)
      if (i.poison !== undefined) log('writer: refused a malformed request', { problem: i.poison.problem });
    return { failed: [] };
  };
}
