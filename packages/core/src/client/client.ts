import { EventEmitter } from 'node:events';
import { CreateMode, modeTraits } from '../model/create-mode.js';
import { FaaSKeeperError, isErrorCode } from '../model/errors.js';
import { MAX_DATA_BYTES } from '../model/limits.js';
import { parentOf, ROOT, validatePath } from '../model/path.js';
import type { Stat } from '../model/stat.js';
import type { Channel, ChannelSubscription } from '../ports/channel.js';
import { type Clock, systemClock, type TimerHandle } from '../ports/clock.js';
import { LimitExceededError } from '../ports/errors.js';
import type { Queue } from '../ports/queue.js';
import type { UserStore } from '../ports/user-store.js';
import { byteLength, decodeMessage, encodeMessage } from '../protocol/codec.js';
import {
  type ChannelMessage,
  type MultiOpRequest,
  type NodeRecord,
  type OpResult,
  PROTOCOL_VERSION,
  type ReplyResult,
  type RequestOp,
  type WatchClass,
  type WriteRequest,
} from '../protocol/messages.js';
import { delay } from '../util/async.js';
import { WRITER_GROUP } from '../writer/writer.js';
import type {
  AddWatchMode,
  CreateOptions,
  Data,
  Op,
  SessionState,
  VersionOption,
  WatchedEvent,
  Watcher,
  WatchOption,
} from './types.js';

/** What a client needs to reach a deployment: the writer queue, the user store and the channel. */
export interface ClientTransport {
  writerQueue: Queue;
  userStore: UserStore;
  channel: Channel;
}

export interface ClientOptions {
  /** Session timeout: without a sign of life for this long, the session expires. Default 10 s. */
  sessionTimeoutMs?: number;
  /** How long an operation may wait for its reply. Default 30 s. */
  operationTimeoutMs?: number;
  /** Injected clock (tests); defaults to the process clock. */
  clock?: Clock;
  /** A fixed session id (tests); otherwise a random 52-bit id. */
  sessionId?: number;
}

interface Pending {
  seq: number;
  resolve: (result: ReplyResult) => void;
  reject: (error: FaaSKeeperError) => void;
  /** Runs synchronously when the reply is taken from the channel, before any later message. */
  onReply?: (result: ReplyResult) => void;
  /** Clock time after which the request fails (OPERATIONTIMEOUT, or CONNECTIONLOSS if never sent). */
  deadline: number;
  sent: boolean;
  settled: Promise<unknown>;
}

interface WatchSets {
  data: Set<Watcher>;
  children: Set<Watcher>;
  persistent: Set<Watcher>;
  recursive: Set<Watcher>;
}

const encoder = new TextEncoder();
const toBytes = (data: Data | undefined): Uint8Array =>
  data === undefined ? new Uint8Array(0) : typeof data === 'string' ? encoder.encode(data) : data;

function checkData(data: Uint8Array, path: string): void {
  if (!(data instanceof Uint8Array))
    throw new FaaSKeeperError('BADARGUMENTS', 'BADARGUMENTS: data must be a Uint8Array or a string', {
      path,
    });
  if (data.byteLength > MAX_DATA_BYTES) {
    throw new FaaSKeeperError(
      'BADARGUMENTS',
      `BADARGUMENTS: data is ${data.byteLength} bytes, over the limit of ${MAX_DATA_BYTES}`,
      { path },
    );
  }
}

function checkVersion(version: number | undefined, path: string): number {
  const v = version ?? -1;
  if (!Number.isSafeInteger(v) || v < -1)
    throw new FaaSKeeperError('BADARGUMENTS', `BADARGUMENTS: bad version ${String(version)}`, { path });
  return v;
}

function randomSessionId(): number {
  const b = new Uint32Array(2);
  globalThis.crypto.getRandomValues(b);
  // 52 random bits, never 0: a safe integer, like ZooKeeper's 64-bit ids but exact in JS numbers.
  return (b[0]! & 0xfffff) * 2 ** 32 + b[1]! || 1;
}

function toError(e: {
  code: string;
  message: string;
  path?: string;
  results?: { code: string }[];
}): FaaSKeeperError {
  const code = isErrorCode(e.code) ? e.code : 'SYSTEMERROR';
  return new FaaSKeeperError(code, e.message, {
    path: e.path,
    results: e.results?.map((r) => ({ code: isErrorCode(r.code) ? r.code : 'SYSTEMERROR' })),
  });
}

const compareOrder = (a: [number, number], b: [number, number]) =>
  a[0] !== b[0] ? a[0] - b[0] : a[1] - b[1];

/**
 * A ZooKeeper-style client of a FaaSKeeper deployment.
 *
 * Writes go to the writer queue in order; replies, watch events and session events come back on
 * the session's channel in zxid order; reads go straight to the user store. The client keeps
 * ZooKeeper's per-client guarantees: its operations take effect in the order issued, a read waits
 * for the client's earlier writes, it never sees half of a transaction (records newer than the
 * watermark wait for it), and it sees a watch event before any data written after the change that
 * fired it (records naming an unreceived event of this session wait for it).
 */
export class FaaSKeeperClient extends EventEmitter<{ state: [SessionState]; error: [unknown] }> {
  /** The session id, as a decimal string (`String(stat.ephemeralOwner)` of its ephemeral nodes). */
  readonly sessionId: string;
  /** The session id as a number, as in `Stat.ephemeralOwner`. */
  readonly sessionNumber: number;
  private currentState: SessionState = 'CONNECTING';
  private readonly transport: ClientTransport;
  private readonly clock: Clock;
  private readonly timeoutMs: number;
  private readonly opTimeoutMs: number;
  private seq = 0;
  private readonly pending = new Map<number, Pending>();
  private outbox: { seq: number; body: string; id: string }[] = [];
  private flushing = false;
  private lastIssued: Promise<unknown> = Promise.resolve();
  /** Direct reads not yet answered, each with the seq of the last request issued before it. */
  private readsInFlight = new Set<{ after: number; done: Promise<unknown> }>();
  private lastOrder: [number, number] = [-1, -1];
  private channelZxid = 0;
  private watermark = 0;
  private channelWaiters: { zxid: number; resolve: () => void }[] = [];
  private readonly watches = new Map<string, WatchSets>();
  private subscription: ChannelSubscription | undefined;
  private pingTimer: TimerHandle | undefined;
  /** One timer for all operation deadlines. */
  private sweeper: TimerHandle | undefined;
  private lastSentAt = 0;
  private lastHeardAt = 0;

  /** Use {@link FaaSKeeperClient.connect}. */
  private constructor(transport: ClientTransport, options: ClientOptions) {
    super();
    this.transport = transport;
    this.clock = options.clock ?? systemClock;
    this.timeoutMs = options.sessionTimeoutMs ?? 10_000;
    this.opTimeoutMs = options.operationTimeoutMs ?? 30_000;
    this.sessionNumber = options.sessionId ?? randomSessionId();
    this.sessionId = String(this.sessionNumber);
  }

  /**
   * Opens a session and resolves once it is CONNECTED.
   * @throws FaaSKeeperError BADARGUMENTS for a bad timeout; OPERATIONTIMEOUT or CONNECTIONLOSS when the deployment does not answer.
   */
  static async connect(transport: ClientTransport, options: ClientOptions = {}): Promise<FaaSKeeperClient> {
    const timeout = options.sessionTimeoutMs ?? 10_000;
    if (!Number.isSafeInteger(timeout) || timeout <= 0)
      throw new FaaSKeeperError('BADARGUMENTS', `BADARGUMENTS: bad sessionTimeoutMs ${timeout}`);
    const client = new FaaSKeeperClient(transport, options);
    client.subscription = await transport.channel.subscribe(client.sessionNumber, (messages) =>
      client.onMessages(messages),
    );
    try {
      await client.request({ type: 'openSession', timeoutMs: timeout });
    } catch (error) {
      await client.subscription.close();
      throw error;
    }
    client.lastHeardAt = client.clock.now();
    client.setState('CONNECTED');
    client.schedulePing();
    return client;
  }

  /** The session's state. */
  get state(): SessionState {
    return this.currentState;
  }

  /** The highest zxid this client has seen: on its channel, or as the user store's watermark. */
  get lastZxid(): number {
    return Math.max(this.channelZxid, this.watermark);
  }

  /** Creates a node; resolves the created path (with its sequence suffix for sequential modes). */
  async create(path: string, data?: Data, options: CreateOptions = {}): Promise<string> {
    return (await this.createWithStat(path, data, options)).path;
  }

  /** Creates a node; resolves the created path and the new node's Stat (ZooKeeper's create2). */
  async createWithStat(
    path: string,
    data?: Data,
    options: CreateOptions = {},
  ): Promise<{ path: string; stat: Stat }> {
    const op = this.createOp(path, data, options.mode, options.ttlMs);
    const result = await this.request({
      type: 'create',
      path: op.path,
      data: op.data,
      mode: op.mode,
      ...(op.ttlMs === undefined ? {} : { ttlMs: op.ttlMs }),
    });
    const created = result as Extract<ReplyResult, { type: 'create' }>;
    return { path: created.path, stat: created.stat };
  }

  /** Reads a node's data and Stat. @throws FaaSKeeperError NONODE when it does not exist. */
  async getData(path: string, options: WatchOption = {}): Promise<{ data: Uint8Array; stat: Stat }> {
    validatePath(path);
    const record = await this.read(path, 'data', options.watch);
    if (record === null) throw new FaaSKeeperError('NONODE', `NONODE: ${path}`, { path });
    return { data: record.data, stat: record.stat };
  }

  /** The node's Stat, or null when it does not exist. A watch set on a missing node fires on its creation. */
  async exists(path: string, options: WatchOption = {}): Promise<Stat | null> {
    validatePath(path);
    const record = await this.read(path, 'exists', options.watch);
    return record === null ? null : record.stat;
  }

  /** The node's children (sorted) and Stat. @throws FaaSKeeperError NONODE when it does not exist. */
  async getChildren(path: string, options: WatchOption = {}): Promise<{ children: string[]; stat: Stat }> {
    validatePath(path);
    const record = await this.read(path, 'children', options.watch);
    if (record === null) throw new FaaSKeeperError('NONODE', `NONODE: ${path}`, { path });
    return { children: [...record.children].sort(), stat: record.stat };
  }

  /** Replaces a node's data. @throws FaaSKeeperError NONODE, BADVERSION. */
  async setData(path: string, data: Data, options: VersionOption = {}): Promise<Stat> {
    validatePath(path);
    const bytes = toBytes(data);
    checkData(bytes, path);
    const result = await this.request({
      type: 'setData',
      path,
      data: bytes,
      version: checkVersion(options.version, path),
    });
    return (result as Extract<ReplyResult, { type: 'setData' }>).stat;
  }

  /** Deletes a node. @throws FaaSKeeperError NONODE, BADVERSION, NOTEMPTY. */
  async delete(path: string, options: VersionOption = {}): Promise<void> {
    validatePath(path);
    await this.request({ type: 'delete', path, version: checkVersion(options.version, path) });
  }

  /**
   * Applies ops atomically. A failed multi applies nothing and rejects with a FaaSKeeperError whose
   * `results` hold `OK` before the failing op, its code, and `RUNTIMEINCONSISTENCY` after it.
   */
  async multi(ops: Op[]): Promise<OpResult[]> {
    if (!Array.isArray(ops))
      throw new FaaSKeeperError('BADARGUMENTS', 'BADARGUMENTS: multi takes an array of ops');
    const encoded: MultiOpRequest[] = ops.map((o) => {
      switch (o?.op) {
        case 'create':
          return this.createOp(o.path, o.data, o.mode, o.ttlMs);
        case 'delete':
          validatePath(o.path);
          return { op: 'delete', path: o.path, version: checkVersion(o.version, o.path) };
        case 'setData': {
          validatePath(o.path);
          const data = toBytes(o.data);
          checkData(data, o.path);
          return { op: 'setData', path: o.path, data, version: checkVersion(o.version, o.path) };
        }
        case 'check':
          validatePath(o.path);
          return { op: 'check', path: o.path, version: checkVersion(o.version, o.path) };
        default:
          throw new FaaSKeeperError(
            'BADARGUMENTS',
            `BADARGUMENTS: unknown multi op ${JSON.stringify((o as { op?: unknown })?.op)}`,
          );
      }
    });
    const result = await this.request({ type: 'multi', ops: encoded });
    return (result as Extract<ReplyResult, { type: 'multi' }>).results;
  }

  /** Waits until every write acknowledged to any client before this call is visible to this client's reads. */
  async sync(path: string = ROOT): Promise<void> {
    validatePath(path);
    await this.request({ type: 'sync', path });
  }

  /** Adds a watch that stays until removed: on the node, or on it and every descendant. */
  async addWatch(path: string, watcher: Watcher, mode: AddWatchMode): Promise<void> {
    validatePath(path);
    if (typeof watcher !== 'function')
      throw new FaaSKeeperError('BADARGUMENTS', 'BADARGUMENTS: watcher must be a function', { path });
    if (mode !== 'PERSISTENT' && mode !== 'PERSISTENT_RECURSIVE')
      throw new FaaSKeeperError('BADARGUMENTS', `BADARGUMENTS: bad watch mode ${String(mode)}`, { path });
    await this.request({ type: 'addWatch', path, mode }, () => {
      this.watchSets(path)[mode === 'PERSISTENT' ? 'persistent' : 'recursive'].add(watcher);
    });
  }

  /**
   * Removes `watcher` (or every watcher) from `path`; no event reaches it afterwards. `type`
   * limits the removal to one class of watch (`data` also covers exists watches); default `any`.
   * @throws FaaSKeeperError NOWATCHER when there is no such watch.
   */
  async removeWatches(
    path: string,
    watcher?: Watcher,
    options: { type?: 'data' | 'children' | 'persistent' | 'recursive' | 'any' } = {},
  ): Promise<void> {
    validatePath(path);
    const type = options.type ?? 'any';
    const classes: readonly WatchClass[] =
      type === 'any' ? ['data', 'children', 'persistent', 'recursive'] : [type];
    const sets = this.watches.get(path);
    const emptied: WatchClass[] = [];
    let removed = false;
    if (sets !== undefined) {
      for (const cls of classes) {
        const set = sets[cls];
        if (set.size === 0) continue;
        if (watcher === undefined) {
          set.clear();
          removed = true;
        } else if (set.delete(watcher)) removed = true;
        if (set.size === 0) emptied.push(cls);
      }
      if (Object.values(sets).every((s: Set<Watcher>) => s.size === 0)) this.watches.delete(path);
    }
    if (!removed) throw new FaaSKeeperError('NOWATCHER', `NOWATCHER: no watch on ${path}`, { path });
    if (emptied.length > 0) await this.request({ type: 'removeWatches', path, classes: emptied });
  }

  /** Ends the session: its ephemeral nodes are deleted and the client stops. */
  async close(): Promise<void> {
    if (this.currentState === 'CLOSED') return;
    const live = this.currentState !== 'EXPIRED';
    if (live) {
      try {
        await this.request({ type: 'closeSession' });
      } catch {
        // The session ends anyway: the heartbeat expires it.
      }
    }
    this.shutdown('CLOSED');
    await this.subscription?.close();
  }

  // ---- internals ---------------------------------------------------------------------------

  private createOp(
    path: string,
    data: Data | undefined,
    mode: CreateMode | undefined,
    ttlMs: number | undefined,
  ): Extract<MultiOpRequest, { op: 'create' }> {
    const m = mode ?? CreateMode.PERSISTENT;
    const traits = modeTraits(m, ttlMs);
    validatePath(path, traits.sequential);
    const bytes = toBytes(data);
    checkData(bytes, path);
    return { op: 'create', path, data: bytes, mode: m, ...(ttlMs === undefined ? {} : { ttlMs }) };
  }

  private watchSets(path: string): WatchSets {
    let s = this.watches.get(path);
    if (s === undefined) {
      s = { data: new Set(), children: new Set(), persistent: new Set(), recursive: new Set() };
      this.watches.set(path, s);
    }
    return s;
  }

  private checkUsable(): void {
    if (this.currentState === 'EXPIRED')
      throw new FaaSKeeperError('SESSIONEXPIRED', 'SESSIONEXPIRED: the session has expired');
    if (this.currentState === 'CLOSED')
      throw new FaaSKeeperError('SESSIONEXPIRED', 'SESSIONEXPIRED: the client is closed');
  }

  /** A read: straight from the user store, or (with a watch) through the writer so the watch is set atomically. */
  private async read(
    path: string,
    kind: 'data' | 'exists' | 'children',
    watcher: Watcher | undefined,
  ): Promise<NodeRecord | null> {
    this.checkUsable();
    if (watcher !== undefined) {
      if (typeof watcher !== 'function')
        throw new FaaSKeeperError('BADARGUMENTS', 'BADARGUMENTS: watch must be a function', { path });
      const result = await this.request({ type: 'watchedRead', path, watch: kind }, (r) => {
        const record = (r as Extract<ReplyResult, { type: 'read' }>).record;
        if (kind === 'children') {
          if (record !== null) this.watchSets(path).children.add(watcher);
        } else this.watchSets(path).data.add(watcher);
      });
      return (result as Extract<ReplyResult, { type: 'read' }>).record;
    }
    // FIFO client order: a read waits for this client's earlier requests, and later requests are
    // not sent until it is answered (else a slow read could see a write issued after it).
    const earlier = this.lastIssued;
    const done = (async () => {
      await earlier;
      return this.readRecord(path);
    })();
    const entry = { after: this.seq, done: done.catch(() => undefined) };
    this.readsInFlight.add(entry);
    try {
      return await done;
    } finally {
      this.readsInFlight.delete(entry);
    }
  }

  private async readRecord(path: string): Promise<NodeRecord | null> {
    const deadline = this.clock.now() + this.opTimeoutMs;
    const record = await this.transport.userStore.get(path).catch((error: unknown) => {
      throw new FaaSKeeperError('CONNECTIONLOSS', `CONNECTIONLOSS: reading ${path} failed`, {
        path,
        cause: error,
      });
    });
    if (record !== undefined) {
      if (record.txZxid > this.watermark) await this.awaitWatermark(record.txZxid, deadline, path);
      const e = record.epoch?.[this.sessionId];
      if (e !== undefined) {
        const need = Math.min(e, record.txZxid);
        if (this.channelZxid < need) await this.awaitChannel(need, deadline, path);
      }
      if (!record.deleted) return record;
    }
    // A missing node carries no epoch, yet its deletion may be newer than a watch event still on
    // its way to us. The deletion rewrote the parent's record, which carries the epoch: reading
    // the parent waits as needed. Only a client holding watches can be owed an event.
    if (path !== ROOT && this.holdsWatches()) await this.readRecord(parentOf(path));
    return null;
  }

  private holdsWatches(): boolean {
    for (const s of this.watches.values())
      if (s.data.size + s.children.size + s.persistent.size + s.recursive.size > 0) return true;
    return false;
  }

  /** Waits until the whole transaction `zxid` (and all before it) is visible. */
  private async awaitWatermark(zxid: number, deadline: number, path: string): Promise<void> {
    for (let attempt = 0; this.watermark < zxid; attempt++) {
      const wm = await this.transport.userStore.getWatermark().catch(() => this.watermark);
      if (wm > this.watermark) this.watermark = wm;
      if (this.watermark >= zxid) return;
      if (this.clock.now() > deadline)
        throw new FaaSKeeperError(
          'OPERATIONTIMEOUT',
          `OPERATIONTIMEOUT: ${path} stayed ahead of the watermark`,
          { path },
        );
      await delay(attempt < 3 ? 0 : Math.min(20, attempt));
    }
  }

  /** Waits until this client has taken every channel message up to `zxid` (ordered notifications). */
  private awaitChannel(zxid: number, deadline: number, path: string): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timer = this.clock.setTimeout(
        () => {
          this.channelWaiters = this.channelWaiters.filter((w) => w !== waiter);
          reject(
            new FaaSKeeperError(
              'OPERATIONTIMEOUT',
              `OPERATIONTIMEOUT: waiting for a watch event before reading ${path}`,
              { path },
            ),
          );
        },
        Math.max(0, deadline - this.clock.now()),
      );
      const waiter = {
        zxid,
        resolve: () => {
          this.clock.clearTimeout(timer);
          resolve();
        },
      };
      this.channelWaiters.push(waiter);
    });
  }

  /** Sends a request through the writer queue and resolves with its reply. */
  private request(op: RequestOp, onReply?: (result: ReplyResult) => void): Promise<ReplyResult> {
    try {
      if (op.type !== 'openSession' && op.type !== 'closeSession') this.checkUsable();
    } catch (error) {
      return Promise.reject(error);
    }
    const seq = ++this.seq;
    const request: WriteRequest = {
      v: PROTOCOL_VERSION,
      id: `${this.sessionId}:${seq}`,
      session: this.sessionNumber,
      seq,
      ack: this.channelZxid,
      op,
    };
    let body: string;
    try {
      body = encodeMessage(request);
    } catch (error) {
      return Promise.reject(
        new FaaSKeeperError('MARSHALLINGERROR', 'MARSHALLINGERROR: request could not be encoded', {
          cause: error,
        }),
      );
    }
    let resolve!: (r: ReplyResult) => void;
    let reject!: (e: FaaSKeeperError) => void;
    const promise = new Promise<ReplyResult>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const entry: Pending = {
      seq,
      resolve,
      reject,
      deadline: this.clock.now() + this.opTimeoutMs,
      sent: false,
      settled: promise.catch(() => undefined),
    };
    if (onReply !== undefined) entry.onReply = onReply;
    this.armSweeper(this.opTimeoutMs);
    this.pending.set(seq, entry);
    this.lastIssued = entry.settled;
    this.outbox.push({ seq, body, id: request.id });
    this.lastSentAt = this.clock.now();
    void this.flush();
    return promise;
  }

  /** Fails requests past their deadline; one timer serves them all. */
  private armSweeper(ms: number): void {
    if (this.sweeper !== undefined) return;
    this.sweeper = this.clock.setTimeout(
      () => {
        this.sweeper = undefined;
        const now = this.clock.now();
        let next = Number.POSITIVE_INFINITY;
        for (const [seq, p] of this.pending) {
          if (p.deadline > now) {
            next = Math.min(next, p.deadline);
            continue;
          }
          this.pending.delete(seq);
          if (!p.sent) {
            this.outbox = this.giveUp(this.outbox, (o) => o.seq === seq);
            p.reject(new FaaSKeeperError('CONNECTIONLOSS', 'CONNECTIONLOSS: the request could not be sent'));
          } else
            p.reject(
              new FaaSKeeperError(
                'OPERATIONTIMEOUT',
                `OPERATIONTIMEOUT: no reply within ${this.opTimeoutMs} ms`,
              ),
            );
        }
        if (next !== Number.POSITIVE_INFINITY) this.armSweeper(next - now);
      },
      Math.max(0, ms),
    );
  }

  /**
   * The outbox without the request `which` picks, given up unsent: in an open session it goes as a
   * ping of the same seq instead, so that the writer still sees every seq of the session (GCP's
   * push order guard waits for each one) while the request itself is not applied.
   */
  private giveUp(
    outbox: { seq: number; body: string; id: string }[],
    which: (o: { seq: number; body: string; id: string }) => boolean,
  ): { seq: number; body: string; id: string }[] {
    const open = this.currentState === 'CONNECTED' || this.currentState === 'DISCONNECTED';
    if (!open) return outbox.filter((o) => !which(o));
    return outbox.map((o) => {
      if (!which(o)) return o;
      const ping: WriteRequest = {
        v: PROTOCOL_VERSION,
        id: o.id,
        session: this.sessionNumber,
        seq: o.seq,
        ack: this.channelZxid,
        op: { type: 'ping' },
      };
      return { ...o, body: encodeMessage(ping) };
    });
  }

  /** Sends the outbox in order, in batches; on failure keeps it and retries. */
  private async flush(): Promise<void> {
    if (this.flushing) return;
    this.flushing = true;
    let failures = 0;
    try {
      while (this.outbox.length > 0 && this.currentState !== 'CLOSED') {
        // Requests issued after a read still in flight wait for it (FIFO client order).
        let firstRead = Number.POSITIVE_INFINITY;
        for (const r of this.readsInFlight) firstRead = Math.min(firstRead, r.after);
        if (this.outbox[0]!.seq > firstRead) {
          await Promise.all([...this.readsInFlight].filter((r) => r.after === firstRead).map((r) => r.done));
          continue;
        }
        const batch = this.outbox
          .slice(0, this.transport.writerQueue.capabilities.maxBatch)
          .filter((b) => b.seq <= firstRead);
        try {
          await this.transport.writerQueue.send(
            batch.map((b) => ({ body: b.body, group: WRITER_GROUP, dedupId: b.id })),
          );
          failures = 0;
          for (const b of batch) {
            const p = this.pending.get(b.seq);
            if (p !== undefined) p.sent = true;
          }
          const sent = new Set(batch.map((b) => b.seq));
          this.outbox = this.outbox.filter((o) => !sent.has(o.seq));
        } catch (error) {
          if (error instanceof LimitExceededError) {
            // One request is too large for the queue: refuse it alone, keep the rest going.
            const tooBig =
              batch.find(
                (b) => byteLength(b.body) > this.transport.writerQueue.capabilities.maxMessageBytes,
              ) ?? batch[0]!;
            this.outbox = this.giveUp(this.outbox, (o) => o === tooBig);
            const p = this.pending.get(tooBig.seq);
            this.pending.delete(tooBig.seq);
            p?.reject(
              new FaaSKeeperError('BADARGUMENTS', `BADARGUMENTS: ${error.message}`, { cause: error }),
            );
            continue;
          }
          failures++;
          if (this.currentState === 'CONNECTED') this.setState('DISCONNECTED');
          await delay(Math.min(1000, 5 * 2 ** Math.min(failures, 8)));
        }
      }
    } finally {
      this.flushing = false;
    }
  }

  private onMessages(raw: string[]): void {
    for (const text of raw) {
      let m: ChannelMessage;
      try {
        m = decodeMessage<ChannelMessage>(text);
      } catch (error) {
        this.emit('error', error);
        continue;
      }
      if (compareOrder(m.order, this.lastOrder) <= 0) continue; // a duplicate delivery
      this.lastOrder = m.order;
      if (m.wm > this.watermark) this.watermark = m.wm;
      this.lastHeardAt = this.clock.now();
      if (this.currentState === 'DISCONNECTED') this.setState('CONNECTED');
      const body = m.body;
      if (body.type === 'event') this.fire({ type: body.event.type, path: body.event.path }, body.classes);
      else if (body.type === 'session') {
        if (body.state === 'EXPIRED') this.shutdown('EXPIRED');
      } else {
        const p = this.pending.get(body.seq);
        if (p !== undefined) {
          this.pending.delete(body.seq);
          if (body.error !== undefined) {
            const error = toError(body.error);
            if (error.code === 'SESSIONEXPIRED') this.shutdown('EXPIRED');
            p.reject(error);
          } else if (body.result !== undefined) {
            try {
              p.onReply?.(body.result);
            } finally {
              p.resolve(body.result);
            }
          }
        }
      }
      if (m.zxid > this.channelZxid) {
        this.channelZxid = m.zxid;
        const ready = this.channelWaiters.filter((w) => w.zxid <= m.zxid);
        if (ready.length > 0) {
          this.channelWaiters = this.channelWaiters.filter((w) => w.zxid > m.zxid);
          for (const w of ready) w.resolve();
        }
      }
    }
  }

  private fire(event: WatchedEvent, classes: WatchClass[]): void {
    const targets = new Set<Watcher>();
    const sets = this.watches.get(event.path);
    if (sets !== undefined) {
      if (classes.includes('data')) {
        for (const w of sets.data) targets.add(w);
        sets.data.clear();
      }
      if (classes.includes('children')) {
        for (const w of sets.children) targets.add(w);
        sets.children.clear();
      }
      if (classes.includes('persistent')) for (const w of sets.persistent) targets.add(w);
    }
    if (classes.includes('recursive')) {
      for (const [p, s] of this.watches) {
        if (s.recursive.size > 0 && (p === event.path || p === ROOT || event.path.startsWith(`${p}/`)))
          for (const w of s.recursive) targets.add(w);
      }
    }
    for (const w of targets) {
      try {
        w(event);
      } catch (error) {
        this.emit('error', error);
      }
    }
  }

  private setState(state: SessionState): void {
    if (this.currentState === state) return;
    this.currentState = state;
    this.emit('state', state);
  }

  private shutdown(state: 'EXPIRED' | 'CLOSED'): void {
    if (this.pingTimer !== undefined) this.clock.clearTimeout(this.pingTimer);
    this.pingTimer = undefined;
    const error = new FaaSKeeperError(
      'SESSIONEXPIRED',
      state === 'EXPIRED'
        ? 'SESSIONEXPIRED: the session has expired'
        : 'SESSIONEXPIRED: the client is closed',
    );
    if (this.sweeper !== undefined) this.clock.clearTimeout(this.sweeper);
    this.sweeper = undefined;
    for (const p of this.pending.values()) p.reject(error);
    this.pending.clear();
    this.outbox = [];
    for (const w of this.channelWaiters) w.resolve();
    this.channelWaiters = [];
    this.watches.clear();
    this.setState(state);
    if (state === 'EXPIRED') void this.subscription?.close();
  }

  /** Pings when idle, so the session stays alive (any request renews it). */
  private schedulePing(): void {
    const interval = Math.max(1, Math.floor(this.timeoutMs / 3));
    this.pingTimer = this.clock.setTimeout(() => {
      if (this.currentState === 'CLOSED' || this.currentState === 'EXPIRED') return;
      const now = this.clock.now();
      // As ZooKeeper's client: silence for two thirds of the session timeout means disconnected.
      if (now - this.lastHeardAt > (this.timeoutMs * 2) / 3 && this.currentState === 'CONNECTED')
        this.setState('DISCONNECTED');
      if (now - this.lastSentAt >= interval || this.currentState === 'DISCONNECTED') {
        this.request({ type: 'ping' }).catch(() => undefined);
      }
      this.schedulePing();
    }, interval);
  }
}
