import { modeTraits } from '../model/create-mode.js';
import { type ErrorCode, FaaSKeeperError, type MultiErrorResult } from '../model/errors.js';
import { MAX_DATA_BYTES } from '../model/limits.js';
import { baseName, isReserved, parentOf, ROOT, sequenceSuffix } from '../model/path.js';
import type { Stat } from '../model/stat.js';
import { type Clock, systemClock } from '../ports/clock.js';
import { ConditionFailedError, LimitExceededError, TransientError } from '../ports/errors.js';
import type { Queue, ReceivedMessage } from '../ports/queue.js';
import type { BatchHandler, BatchResult } from '../ports/runtime.js';
import type { ItemKey, SystemStore } from '../ports/system-store.js';
import { byteLength, decodeMessage, encodeMessage } from '../protocol/codec.js';
import {
  type DistributorBatch,
  type DistributorItem,
  type MultiOpRequest,
  type OpResult,
  type PersistentWatch,
  PROTOCOL_VERSION,
  type ReplyResult,
  type Requester,
  type SessionItem,
  type SystemNode,
  type SystemNodeItem,
  type WatchClass,
  type WriteRequest,
  type WriterState,
} from '../protocol/messages.js';
import { checkRequest } from '../protocol/validate.js';
import { Overlay } from './overlay.js';
import { Txn } from './txn.js';

/** The writer queue has one message group: one total order of all writes (DESIGN.md §4). */
export const WRITER_GROUP = 'writer';
/** The distributor queue likewise. */
export const DISTRIBUTOR_GROUP = 'distributor';
/** Id of the writer's own item in the system store. */
export const WRITER_STATE_ID = 'writer';
/** How many recently watched paths a session remembers for cleanup at close. */
const MAX_WATCH_PATHS = 1024;

export interface WriterOptions {
  systemStore: SystemStore;
  distributorQueue: Queue;
  clock?: Clock;
  /** Clocks of different functions differ by up to this much; expiry waits it out. */
  clockSkewMs?: number;
  /** Where the writer reports dropped poison messages and retries. */
  log?: (message: string, details?: Record<string, unknown>) => void;
}

const nodeKey = (path: string): ItemKey => ({ kind: 'node', id: path });
const sessionKey = (id: number): ItemKey => ({ kind: 'session', id: String(id) });
const fail = (code: ErrorCode, path: string, detail?: string) =>
  new FaaSKeeperError(code, detail === undefined ? `${code}: ${path}` : `${code}: ${detail}: ${path}`, {
    path,
  });

/**
 * How many children were ever created under a node: ZooKeeper 3.8's sequential counter. Every child
 * create and delete bumps `cversion` once, so creations - deletions = numChildren and creations =
 * (cversion + numChildren) / 2: ZooKeeper keeps this count and reports cversion from it.
 */
export function childCreations(stat: Stat): number {
  return (stat.cversion + stat.numChildren) / 2;
}

/** A fresh writer state (before the first batch). */
export function initialWriterState(): WriterState {
  return { zxid: 0, batch: 0, epoch: {}, persistentWatches: [] };
}

type Incoming = {
  message: ReceivedMessage;
  request?: WriteRequest;
  poison?: { problem: string; to?: Requester };
};

/**
 * The writer function (ZooKeeper's leader): validates each request against the system store,
 * assigns zxids, commits a batch in one conditional transaction together with its own state, and
 * hands the committed batch to the distributor. Idempotent under retry: a batch whose commit took
 * effect is recognised by its request ids and handed on again rather than applied twice.
 */
export function createWriter(options: WriterOptions): BatchHandler {
  const clock = options.clock ?? systemClock;
  const skew = options.clockSkewMs ?? 1000;
  const store = options.systemStore;
  const log = options.log ?? (() => {});
  const maxItems = store.capabilities.maxTransactionItems;
  // A committed batch travels as one distributor message and is kept in the writer's state item.
  const maxBytes = Math.min(
    options.distributorQueue.capabilities.maxMessageBytes,
    store.capabilities.maxItemBytes,
  );

  async function forward(batch: number, body: string): Promise<void> {
    await options.distributorQueue.send([{ body, group: DISTRIBUTOR_GROUP, dedupId: `batch-${batch}` }]);
  }

  return async (messages): Promise<BatchResult> => {
    const incoming: Incoming[] = messages.map((message) => {
      let raw: unknown;
      try {
        raw = decodeMessage(message.body);
      } catch {
        return { message, poison: { problem: 'request is not valid JSON' } };
      }
      const checked = checkRequest(raw);
      if (checked.ok) return { message, request: checked.request };
      const to =
        checked.session !== undefined && checked.seq !== undefined
          ? { session: checked.session, seq: checked.seq }
          : undefined;
      return {
        message,
        poison: to === undefined ? { problem: checked.problem } : { problem: checked.problem, to },
      };
    });

    const stateItem = await store.get<WriterState>({ kind: 'meta', id: WRITER_STATE_ID });
    if (stateItem === undefined)
      throw new TransientError('writer state missing: the deployment is not bootstrapped');
    let state = stateItem.value;
    let stateVersion = stateItem.version;

    // A retried batch whose commit took effect: hand its output on again, apply nothing twice.
    let pending = incoming;
    if (state.last !== undefined) {
      const done = new Set(state.last.ids);
      // A redelivery means an earlier attempt failed, maybe between its commit and its forward,
      // even when none of these requests is in that batch (a retry split the batch): hand it on.
      const redelivered = messages.some((m) => m.attempt > 1);
      if (redelivered || pending.some((i) => done.has(i.message.id))) {
        await forward(state.last.batch, state.last.body);
        pending = pending.filter((i) => !done.has(i.message.id));
      }
    }

    // After a commit over a store limit: the most requests per chunk, and the problem to refuse
    // the first pending request with once the chunk is down to it.
    let cap = Number.POSITIVE_INFINITY;
    let overLimit: string | undefined;
    while (pending.length > 0) {
      const overlay = new Overlay(store);
      const { last: _last, ...live } = state;
      const chunk = new Chunk(overlay, structuredClone(live), clock, skew);
      await overlay.prefetch(prefetchKeys(pending));
      let taken = 0;
      let itemBytes = 0;
      const refusing = overLimit !== undefined;
      for (const item of pending) {
        if (taken >= cap) break;
        if (overLimit !== undefined) {
          await chunk.refuse(item, `the request's changes exceed a limit of the system store: ${overLimit}`);
          log('writer: refused a request over a store limit', { problem: overLimit });
          overLimit = undefined;
          taken = 1;
          continue;
        }
        const before = overlay.checkpoint();
        const stateBefore = chunk.snapshot();
        await chunk.handle(item);
        // Leave room for the writer's own item; a request that alone exceeds the limit is refused.
        if (overlay.dirtyCount() + 1 > maxItems) {
          overlay.rollback(before);
          chunk.restore(stateBefore);
          if (taken === 0) {
            await chunk.refuse(
              item,
              `the request touches more items than one transaction of this store can hold (${maxItems})`,
            );
            taken = 1;
          }
          break;
        }
        // The chunk's output must fit one distributor message: a committed batch that cannot be
        // forwarded would be retried forever and block every write behind it.
        if (Number.isFinite(maxBytes)) {
          const added = chunk.items.slice(stateBefore.items);
          const envelope = encodedSizeBound(chunk.state.epoch) + 1024;
          // A cheap upper bound first; the exact size only when the bound comes near the limit.
          let addedBytes = encodedSizeBound(added);
          if (itemBytes + addedBytes + envelope > maxBytes)
            addedBytes = byteLength(encodeMessage(added)) + 16 * added.length;
          if (itemBytes + addedBytes + envelope > maxBytes) {
            overlay.rollback(before);
            chunk.restore(stateBefore);
            if (taken === 0) {
              await chunk.refuse(
                item,
                `the request's committed result is ${addedBytes} bytes, more than one batch can hold (${maxBytes}: the distributor message and the writer state item)`,
              );
              taken = 1;
            }
            break;
          }
          itemBytes += addedBytes;
        }
        taken++;
      }
      const ids = pending.slice(0, taken).map((i) => i.message.id);
      const output = chunk.output();
      const body = encodeMessage(output);
      const next: WriterState = {
        ...chunk.state,
        batch: output.batch,
        last: { ids, batch: output.batch, body },
      };
      try {
        await store.transact([
          ...overlay.commitOps(),
          { type: 'put', kind: 'meta', id: WRITER_STATE_ID, value: next, expect: stateVersion },
        ]);
      } catch (error) {
        if (error instanceof ConditionFailedError) {
          // Another writer instance committed meanwhile (a retry racing a slow attempt): start over.
          log('writer: commit conflict, retrying the batch', { reason: error.message });
          throw new TransientError('writer commit conflict', error);
        }
        if (error instanceof LimitExceededError && !refusing) {
          // A request of the chunk makes an item or the transaction too big for the store: halve the
          // chunk until it holds that request alone, then refuse it. Failing the batch instead would
          // have it retried forever, blocking the queue.
          log('writer: commit over a store limit, narrowing the chunk', { reason: error.message });
          if (taken > 1) cap = Math.ceil(taken / 2);
          else {
            cap = 1;
            overLimit = error.message.slice(0, 300);
          }
          continue;
        }
        throw error;
      }
      if (refusing) cap = Number.POSITIVE_INFINITY;
      state = next;
      stateVersion++;
      await forward(output.batch, body);
      pending = pending.slice(taken);
    }
    for (const i of incoming)
      if (i.poison !== undefined) log('writer: refused a malformed request', { problem: i.poison.problem });
    return { failed: [] };
  };
}

/**
 * An upper bound of the bytes {@link encodeMessage} makes of plain data, without encoding it:
 * bytes as base64, every string character as a 6-byte escape at worst.
 */
function encodedSizeBound(value: unknown): number {
  if (typeof value === 'string') return value.length * 6 + 2;
  if (value === null || typeof value !== 'object') return 24;
  if (value instanceof Uint8Array) return Math.ceil(value.byteLength / 3) * 4 + 16;
  let n = 2;
  if (Array.isArray(value)) for (const v of value) n += encodedSizeBound(v) + 1;
  else for (const k in value) n += k.length * 6 + 4 + encodedSizeBound((value as Record<string, unknown>)[k]);
  return n;
}

function prefetchKeys(items: Incoming[]): ItemKey[] {
  const keys: ItemKey[] = [];
  for (const { request } of items) {
    if (request === undefined) continue;
    if (request.session > 0) keys.push(sessionKey(request.session));
    const op = request.op;
    const paths: string[] = [];
    switch (op.type) {
      case 'create':
      case 'delete':
      case 'setData':
      case 'watchedRead':
      case 'expireTtl':
        paths.push(op.path);
        break;
      case 'multi':
        for (const o of op.ops) paths.push(o.path);
        break;
      case 'expireSession':
        keys.push(sessionKey(op.target));
        break;
      default:
        break;
    }
    for (const p of paths) {
      keys.push(nodeKey(p));
      if (p !== ROOT) keys.push(nodeKey(parentOf(p)));
    }
  }
  return keys;
}

/** One transaction's worth of requests: applies them to the overlay and collects the output. */
class Chunk {
  readonly items: DistributorItem[] = [];

  constructor(
    private readonly overlay: Overlay,
    public state: WriterState,
    private readonly clock: Clock,
    private readonly skew: number,
  ) {}

  snapshot(): { state: WriterState; items: number } {
    // persistentWatches is only ever replaced, never mutated; epoch is mutated, so it is copied.
    return { state: { ...this.state, epoch: { ...this.state.epoch } }, items: this.items.length };
  }

  restore(s: { state: WriterState; items: number }): void {
    this.state = s.state;
    this.items.length = s.items;
  }

  output(): DistributorBatch {
    return {
      v: PROTOCOL_VERSION,
      batch: this.state.batch + 1,
      zxid: this.state.zxid,
      epoch: { ...this.state.epoch },
      items: this.items,
    };
  }

  async refuse(item: Incoming, problem: string): Promise<void> {
    const to =
      item.poison?.to ??
      (item.request && item.request.session > 0
        ? { session: item.request.session, seq: item.request.seq }
        : undefined);
    if (to === undefined) return;
    // The answered request's seq is used up, as for an applied one: the session's seqs reach the
    // writer without gaps (GCP's push order guard waits for lastSeq + 1), and a redelivery is a duplicate.
    const session = await this.overlay.get<SessionItem>('session', String(to.session));
    if (session !== undefined && to.seq > session.lastSeq)
      this.overlay.set('session', String(to.session), { ...session, lastSeq: to.seq });
    this.reply(to, undefined, new FaaSKeeperError('BADARGUMENTS', `BADARGUMENTS: ${problem}`));
  }

  private reply(to: Requester, result?: ReplyResult, error?: FaaSKeeperError): void {
    const item: DistributorItem = { type: 'reply', zxid: this.state.zxid, to };
    if (result !== undefined) item.result = result;
    if (error !== undefined) {
      item.error = { code: error.code, message: error.message };
      if (error.path !== undefined) item.error.path = error.path;
      if (error.results !== undefined) item.error.results = error.results;
    }
    this.items.push(item);
  }

  async handle(item: Incoming): Promise<void> {
    const request = item.request;
    if (request === undefined) {
      await this.refuse(item, item.poison?.problem ?? 'malformed request');
      return;
    }
    if (request.session === 0) {
      await this.system(request);
      return;
    }
    const to: Requester = { session: request.session, seq: request.seq };
    const sid = String(request.session);
    const now = this.clock.now();
    const session = await this.overlay.get<SessionItem>('session', sid);
    const op = request.op;
    if (op.type === 'openSession') {
      if (session !== undefined) {
        if (request.seq > session.lastSeq)
          this.reply(
            to,
            undefined,
            new FaaSKeeperError('BADARGUMENTS', 'BADARGUMENTS: session id already in use'),
          );
        return;
      }
      const created: SessionItem = {
        id: request.session,
        timeoutMs: op.timeoutMs,
        expiresAt: now + op.timeoutMs,
        lastSeq: request.seq,
        ephemerals: [],
        watchPaths: [],
      };
      this.overlay.set('session', sid, created);
      this.reply(to, { type: 'session', timeoutMs: op.timeoutMs });
      return;
    }
    if (session === undefined) {
      this.reply(
        to,
        undefined,
        new FaaSKeeperError('SESSIONEXPIRED', 'SESSIONEXPIRED: the session has expired'),
      );
      return;
    }
    if (request.seq <= session.lastSeq) return; // a duplicate delivery: applied and answered before
    this.overlay.set('session', sid, {
      ...session,
      lastSeq: request.seq,
      expiresAt: now + session.timeoutMs,
    });
    if (request.ack !== undefined) {
      const pendingEvent = this.state.epoch[sid];
      if (pendingEvent !== undefined && pendingEvent <= request.ack) delete this.state.epoch[sid];
    }
    try {
      await this.dispatch(request, to);
    } catch (error) {
      if (error instanceof FaaSKeeperError) this.reply(to, undefined, error);
      else throw error;
    }
  }

  private async dispatch(request: WriteRequest, to: Requester): Promise<void> {
    const op = request.op;
    switch (op.type) {
      case 'ping':
        this.reply(to, { type: 'ping' });
        return;
      case 'sync':
        this.reply(to, { type: 'sync' });
        return;
      case 'create':
      case 'delete':
      case 'setData':
        await this.transaction(
          request.session,
          [{ ...op, op: op.type } as MultiOpRequest],
          to,
          false,
          async ([r]) => {
            if (r!.op === 'create') {
              const created = (await this.overlay.get<SystemNodeItem>('node', r!.path))!.node!;
              return { type: 'create', path: r!.path, stat: { ...created.stat } };
            }
            return r!.op === 'setData' ? { type: 'setData', stat: r!.stat } : { type: 'delete' };
          },
        );
        return;
      case 'multi':
        if (op.ops.length === 0) this.reply(to, { type: 'multi', results: [] });
        else
          await this.transaction(request.session, op.ops, to, true, (results) => ({
            type: 'multi',
            results,
          }));
        return;
      case 'watchedRead':
        await this.watchedRead(request.session, op.path, op.watch);
        this.items.push({ type: 'read', zxid: this.state.zxid, to, path: op.path });
        return;
      case 'addWatch': {
        const recursive = op.mode === 'PERSISTENT_RECURSIVE';
        const exists = this.state.persistentWatches.some(
          (w) => w.session === request.session && w.path === op.path && w.recursive === recursive,
        );
        if (!exists)
          this.state.persistentWatches = [
            ...this.state.persistentWatches,
            { session: request.session, path: op.path, recursive },
          ];
        this.reply(to, { type: 'addWatch' });
        return;
      }
      case 'removeWatches':
        await this.removeWatches(request.session, op.path, op.classes);
        this.reply(to, { type: 'removeWatches' });
        return;
      case 'closeSession':
        await this.closeSession(request.session, 'CLOSED', to);
        return;
      default:
        throw new FaaSKeeperError('BADARGUMENTS', `BADARGUMENTS: ${op.type} is not a client request`);
    }
  }

  private async system(request: WriteRequest): Promise<void> {
    const op = request.op;
    const now = this.clock.now();
    if (op.type === 'expireSession') {
      const session = await this.overlay.get<SessionItem>('session', String(op.target));
      // Renewed since the heartbeat looked, or already gone: nothing to do.
      if (session === undefined || session.expiresAt + this.skew >= now) return;
      await this.closeSession(op.target, 'EXPIRED', undefined);
    } else if (op.type === 'expireTtl') {
      const item = await this.overlay.get<SystemNodeItem>('node', op.path);
      const node = item?.node;
      if (
        node === undefined ||
        node.kind !== 'ttl' ||
        node.stat.numChildren > 0 ||
        node.stat.mzxid !== op.mzxid
      )
        return;
      if (node.stat.mtime + (node.ttlMs ?? 0) + this.skew >= now) return;
      await this.transaction(0, [{ op: 'delete', path: op.path, version: -1 }], undefined, false);
    }
  }

  /**
   * Applies ops as one transaction with one zxid. On failure nothing changes and the requester gets
   * the error (for a multi, with per-op results); returns the results on success.
   */
  private async transaction(
    session: number,
    ops: MultiOpRequest[],
    to: Requester | undefined,
    multi: boolean,
    result?: (results: OpResult[]) => ReplyResult | Promise<ReplyResult>,
  ): Promise<void> {
    const before = this.overlay.checkpoint();
    const txn = new Txn(this.state.zxid + 1, this.clock.now());
    const results: OpResult[] = [];
    for (let i = 0; i < ops.length; i++) {
      try {
        results.push(await this.applyOp(session, ops[i]!, txn));
      } catch (error) {
        if (!(error instanceof FaaSKeeperError)) throw error;
        this.overlay.rollback(before);
        if (to === undefined) return;
        if (multi) {
          const perOp: MultiErrorResult[] = ops.map((_, j) => ({
            code: j < i ? 'OK' : j === i ? error.code : 'RUNTIMEINCONSISTENCY',
          }));
          this.reply(
            to,
            undefined,
            new FaaSKeeperError(error.code, error.message, { path: error.path, results: perOp }),
          );
        } else this.reply(to, undefined, error);
        return;
      }
    }
    const reply =
      to === undefined || result === undefined ? undefined : { ...to, result: await result(results) };
    await this.commitTxn(txn, reply);
  }

  /** Records a successful txn: bumps the zxid, registers its events in the epoch, cleans up containers. */
  private async commitTxn(
    txn: Txn,
    reply: (Requester & { result: ReplyResult }) | undefined,
    closed?: { session: number; state: 'EXPIRED' | 'CLOSED' }[],
  ): Promise<void> {
    this.state.zxid = txn.zxid;
    const events = txn.notifications();
    for (const e of events) {
      const sid = String(e.session);
      this.state.epoch[sid] = Math.max(this.state.epoch[sid] ?? 0, txn.zxid);
    }
    const item: DistributorItem = { type: 'txn', zxid: txn.zxid, writes: [...txn.writes.values()], events };
    if (reply !== undefined) item.reply = reply;
    if (closed !== undefined) item.closed = closed;
    this.items.push(item);
    await this.reapContainers(txn);
  }

  /** Containers left empty by a txn are deleted right after it, each in a txn of its own. */
  private async reapContainers(txn: Txn): Promise<void> {
    for (const w of txn.writes.values()) {
      if (!w.put || w.path === ROOT) continue;
      const item = await this.overlay.get<SystemNodeItem>('node', w.path);
      const node = item?.node;
      if (
        node?.kind === 'container' &&
        node.stat.numChildren === 0 &&
        node.stat.cversion > 0 &&
        node.stat.pzxid === txn.zxid
      ) {
        await this.transaction(0, [{ op: 'delete', path: w.path, version: -1 }], undefined, false);
      }
    }
  }

  private async applyOp(session: number, op: MultiOpRequest, txn: Txn): Promise<OpResult> {
    if (isReserved(op.path)) throw fail('BADARGUMENTS', op.path, `${op.path} is reserved`);
    switch (op.op) {
      case 'create':
        return { op: 'create', path: await this.create(session, op, txn) };
      case 'delete':
        await this.delete(op.path, op.version, txn);
        return { op: 'delete' };
      case 'setData':
        return { op: 'setData', stat: await this.setData(op.path, op.data, op.version, txn) };
      case 'check': {
        const node = (await this.overlay.get<SystemNodeItem>('node', op.path))?.node;
        if (node === undefined) throw fail('NONODE', op.path);
        if (op.version !== -1 && node.stat.version !== op.version) throw fail('BADVERSION', op.path);
        return { op: 'check' };
      }
    }
  }

  private async create(
    session: number,
    op: Extract<MultiOpRequest, { op: 'create' }>,
    txn: Txn,
  ): Promise<string> {
    const traits = modeTraits(op.mode, op.ttlMs);
    if (op.data.byteLength > MAX_DATA_BYTES) throw fail('BADARGUMENTS', op.path, 'data over 1 MiB');
    if (op.path === ROOT) throw fail('NODEEXISTS', op.path);
    if (traits.kind === 'ephemeral' && session === 0)
      throw fail('BADARGUMENTS', op.path, 'ephemeral nodes need a session');
    const parentPath = parentOf(op.path);
    const parentItem = await this.overlay.get<SystemNodeItem>('node', parentPath);
    const parent = parentItem?.node;
    if (parent === undefined) throw fail('NONODE', parentPath, 'parent does not exist');
    if (parent.kind === 'ephemeral') throw fail('NOCHILDRENFOREPHEMERALS', parentPath);
    const path = traits.sequential ? op.path + sequenceSuffix(childCreations(parent.stat)) : op.path;
    const item = await this.overlay.get<SystemNodeItem>('node', path);
    if (item?.node !== undefined) throw fail('NODEEXISTS', path);
    const z = txn.zxid;
    const stat: Stat = {
      czxid: z,
      mzxid: z,
      pzxid: z,
      ctime: txn.time,
      mtime: txn.time,
      version: 0,
      cversion: 0,
      aversion: 0,
      ephemeralOwner: traits.kind === 'ephemeral' ? session : 0,
      dataLength: op.data.byteLength,
      numChildren: 0,
    };
    const node: SystemNode = { stat, children: [], kind: traits.kind };
    if (traits.kind === 'ttl') node.ttlMs = op.ttlMs!;
    // The created node's exists/data watchers fire, and the registration item goes.
    for (const s of item?.dataWatches ?? []) txn.notify(s, 'NodeCreated', path, 'data');
    this.overlay.set('node', path, { node });
    txn.write({ path, put: true, stat: { ...stat }, children: [], data: op.data });
    const newParent: SystemNode = {
      ...parent,
      children: [...parent.children, baseName(path)],
      stat: {
        ...parent.stat,
        cversion: parent.stat.cversion + 1,
        pzxid: z,
        numChildren: parent.stat.numChildren + 1,
      },
    };
    this.setNode(parentPath, parentItem!, newParent, txn);
    this.childChanged(parentPath, txn);
    this.persistentFire(path, 'NodeCreated', txn);
    if (traits.kind === 'ephemeral') {
      const s = (await this.overlay.get<SessionItem>('session', String(session)))!;
      this.overlay.set('session', String(session), { ...s, ephemerals: [...s.ephemerals, path] });
    }
    if (traits.kind === 'ttl') {
      await this.overlay.get('ttl', path);
      this.overlay.set('ttl', path, { path });
    }
    return path;
  }

  private async delete(path: string, version: number, txn: Txn): Promise<void> {
    if (path === ROOT) throw fail('BADARGUMENTS', path, 'the root cannot be deleted');
    const item = await this.overlay.get<SystemNodeItem>('node', path);
    const node = item?.node;
    if (node === undefined) throw fail('NONODE', path);
    if (version !== -1 && node.stat.version !== version) throw fail('BADVERSION', path);
    if (node.stat.numChildren > 0) throw fail('NOTEMPTY', path);
    const parentPath = parentOf(path);
    const parentItem = (await this.overlay.get<SystemNodeItem>('node', parentPath))!;
    const parent = parentItem.node!;
    for (const s of item!.dataWatches ?? []) txn.notify(s, 'NodeDeleted', path, 'data');
    for (const s of item!.childWatches ?? []) txn.notify(s, 'NodeDeleted', path, 'children');
    this.overlay.set('node', path, undefined);
    txn.write({ path, put: false });
    const name = baseName(path);
    const newParent: SystemNode = {
      ...parent,
      children: parent.children.filter((c) => c !== name),
      stat: {
        ...parent.stat,
        cversion: parent.stat.cversion + 1,
        pzxid: txn.zxid,
        numChildren: parent.stat.numChildren - 1,
      },
    };
    this.setNode(parentPath, parentItem, newParent, txn);
    this.childChanged(parentPath, txn);
    this.persistentFire(path, 'NodeDeleted', txn);
    if (node.stat.ephemeralOwner !== 0) {
      const sid = String(node.stat.ephemeralOwner);
      const s = await this.overlay.get<SessionItem>('session', sid);
      if (s !== undefined)
        this.overlay.set('session', sid, { ...s, ephemerals: s.ephemerals.filter((p) => p !== path) });
    }
    if (node.kind === 'ttl') {
      await this.overlay.get('ttl', path);
      this.overlay.set('ttl', path, undefined);
    }
  }

  private async setData(path: string, data: Uint8Array, version: number, txn: Txn): Promise<Stat> {
    if (data.byteLength > MAX_DATA_BYTES) throw fail('BADARGUMENTS', path, 'data over 1 MiB');
    const item = await this.overlay.get<SystemNodeItem>('node', path);
    const node = item?.node;
    if (node === undefined) throw fail('NONODE', path);
    if (version !== -1 && node.stat.version !== version) throw fail('BADVERSION', path);
    const stat: Stat = {
      ...node.stat,
      mzxid: txn.zxid,
      mtime: txn.time,
      version: node.stat.version + 1,
      dataLength: data.byteLength,
    };
    for (const s of item!.dataWatches ?? []) txn.notify(s, 'NodeDataChanged', path, 'data');
    const { dataWatches: _fired, ...rest } = item!;
    this.overlay.set('node', path, { ...rest, node: { ...node, stat } });
    txn.write({ path, put: true, stat: { ...stat }, children: [...node.children], data });
    this.persistentFire(path, 'NodeDataChanged', txn);
    return { ...stat };
  }

  /** Writes a node whose metadata changed, keeping its watch registrations. */
  private setNode(path: string, item: SystemNodeItem, node: SystemNode, txn: Txn): void {
    const current = this.overlay.peek<SystemNodeItem>('node', path) ?? item;
    this.overlay.set('node', path, { ...current, node });
    txn.write({ path, put: true, stat: { ...node.stat }, children: [...node.children] });
  }

  /** Fires (and clears) the one-shot child watches of `path`. */
  private childChanged(path: string, txn: Txn): void {
    const current = this.overlay.peek<SystemNodeItem>('node', path)!;
    if (current.childWatches === undefined || current.childWatches.length === 0) return;
    for (const s of current.childWatches) txn.notify(s, 'NodeChildrenChanged', path, 'children');
    const { childWatches: _, ...rest } = current;
    this.overlay.set('node', path, rest);
  }

  /** Persistent watches: on the node itself, on its parent (children), and recursive ones above. */
  private persistentFire(
    path: string,
    type: 'NodeCreated' | 'NodeDeleted' | 'NodeDataChanged',
    txn: Txn,
  ): void {
    if (this.state.persistentWatches.length === 0) return;
    const parent = path === ROOT ? undefined : parentOf(path);
    for (const w of this.state.persistentWatches) {
      if (w.recursive) {
        if (w.path === path || w.path === ROOT || path.startsWith(`${w.path}/`))
          txn.notify(w.session, type, path, 'recursive');
      } else if (w.path === path) {
        txn.notify(w.session, type, path, 'persistent');
      } else if (w.path === parent && type !== 'NodeDataChanged') {
        txn.notify(w.session, 'NodeChildrenChanged', parent, 'persistent');
      }
    }
  }

  private async watchedRead(
    session: number,
    path: string,
    kind: 'data' | 'exists' | 'children',
  ): Promise<void> {
    const item = await this.overlay.get<SystemNodeItem>('node', path);
    if (item?.node === undefined && kind !== 'exists') throw fail('NONODE', path);
    const list = kind === 'children' ? 'childWatches' : 'dataWatches';
    const current = item ?? {};
    if (!(current[list] ?? []).includes(session))
      this.overlay.set('node', path, { ...current, [list]: [...(current[list] ?? []), session] });
    const sid = String(session);
    const s = (await this.overlay.get<SessionItem>('session', sid))!;
    if (!s.watchPaths.includes(path)) {
      const watchPaths = [...s.watchPaths, path];
      this.overlay.set('session', sid, { ...s, watchPaths: watchPaths.slice(-MAX_WATCH_PATHS) });
    }
  }

  private async removeWatches(session: number, path: string, classes: WatchClass[]): Promise<void> {
    if (classes.includes('persistent') || classes.includes('recursive')) {
      this.state.persistentWatches = this.state.persistentWatches.filter(
        (w) =>
          !(
            w.session === session &&
            w.path === path &&
            classes.includes(w.recursive ? 'recursive' : 'persistent')
          ),
      );
    }
    if (classes.includes('data') || classes.includes('children'))
      await this.dropOneShot(session, path, classes);
  }

  private async dropOneShot(session: number, path: string, classes: WatchClass[]): Promise<void> {
    const item = await this.overlay.get<SystemNodeItem>('node', path);
    if (item === undefined) return;
    const next: SystemNodeItem = { ...item };
    if (classes.includes('data') && item.dataWatches?.includes(session))
      next.dataWatches = item.dataWatches.filter((s) => s !== session);
    if (classes.includes('children') && item.childWatches?.includes(session))
      next.childWatches = item.childWatches.filter((s) => s !== session);
    if (next.dataWatches?.length === 0) delete next.dataWatches;
    if (next.childWatches?.length === 0) delete next.childWatches;
    if (next.dataWatches === item.dataWatches && next.childWatches === item.childWatches) return;
    // An item that only held watches goes with its last one.
    this.overlay.set(
      'node',
      path,
      next.node === undefined && next.dataWatches === undefined && next.childWatches === undefined
        ? undefined
        : next,
    );
  }

  /**
   * Ends a session in one txn: its ephemeral nodes are deleted (firing their watches), its watches
   * are dropped, its session item goes, and the session is told.
   */
  private async closeSession(
    session: number,
    how: 'EXPIRED' | 'CLOSED',
    to: Requester | undefined,
  ): Promise<void> {
    const sid = String(session);
    const s = (await this.overlay.get<SessionItem>('session', sid))!;
    const paths = [...s.ephemerals];
    await this.overlay.prefetch(paths.flatMap((p) => [nodeKey(p), nodeKey(parentOf(p))]));
    await this.overlay.prefetch(s.watchPaths.map(nodeKey));
    const txn = new Txn(this.state.zxid + 1, this.clock.now());
    for (const p of paths) {
      const node = (await this.overlay.get<SystemNodeItem>('node', p))?.node;
      if (node !== undefined && node.stat.ephemeralOwner === session) await this.delete(p, -1, txn);
    }
    for (const p of s.watchPaths) await this.dropOneShot(session, p, ['data', 'children']);
    this.state.persistentWatches = this.state.persistentWatches.filter(
      (w: PersistentWatch) => w.session !== session,
    );
    delete this.state.epoch[sid];
    this.overlay.set('session', sid, undefined);
    await this.commitTxn(txn, to === undefined ? undefined : { ...to, result: { type: 'closeSession' } }, [
      { session, state: how },
    ]);
  }
}
