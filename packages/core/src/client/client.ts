/*
 * The public client API. It keeps ZooKeeper's per-client guarantees (docs/guarantees.md) by
 * composing the modules beside it: the request pipeline (FIFO client order, every seq reaches the
 * writer), the node reads over the consistent reader (single system image, ordered notifications,
 * READ checks), the watch registry (a watch fires at most once per registration), liveness
 * (sessions: pings, DISCONNECTED, EXPIRED) and the session's channel (one per incarnation). This
 * file wires them together and checks the arguments of writes.
 */
import { EventEmitter } from 'node:events';
import { FaaSKeeperError } from '../model/errors.js';
import { ROOT, validatePath } from '../model/path.js';
import type { Stat } from '../model/stat.js';
import { systemClock } from '../ports/clock.js';
import type { ACL, OpResult } from '../protocol/messages.js';
import {
  addWatchArguments,
  authArguments,
  checkRemoveWatchType,
  connectArguments,
  createFields,
  deleteOp,
  multiOps,
  setACLOp,
  setDataOp,
} from './arguments.js';
import { channelInbox } from './channel-inbox.js';
import { ConsistentReader } from './consistent-reader.js';
import { FifoOrder } from './fifo-order.js';
import { Liveness, randomSessionId } from './liveness.js';
import { NodeReads } from './node-reads.js';
import { closeRefused, type ReplyFor, sessionEndedError } from './replies.js';
import { RequestPipeline } from './request-pipeline.js';
import { reportChannelFailure, SessionChannel } from './session-channel.js';
import { SessionKeys } from './session-keys.js';
import { openOrResume } from './session-open.js';
import type {
  AddWatchMode,
  ClientOptions,
  ClientTransport,
  CreateOptions,
  Data,
  NodeAcl,
  NodeData,
  Op,
  RemoveWatchesOptions,
  SessionState,
  VersionOption,
  Watcher,
  WatchOption,
} from './types.js';
import { WatchRegistry } from './watch-registry.js';
import { WatchedCalls } from './watched-calls.js';

export type { ClientOptions, ClientTransport } from './types.js';

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
  private readonly watches = new WatchRegistry();
  /** Watch-setting calls: their watch's events wait until the caller has the reply. */
  private readonly watchedCalls = new WatchedCalls();
  private readonly liveness: Liveness;
  private readonly pipeline: RequestPipeline;
  private readonly reader: ConsistentReader;
  private readonly channel: SessionChannel;
  private readonly reads: NodeReads;
  private readonly keys: SessionKeys;

  /** Use {@link FaaSKeeperClient.connect}. */
  private constructor(transport: ClientTransport, options: ClientOptions, incarnation: number) {
    super();
    const clock = options.clock ?? systemClock;
    const opTimeoutMs = options.operationTimeoutMs ?? 30_000;
    this.sessionNumber = options.sessionId ?? randomSessionId();
    this.sessionId = String(this.sessionNumber);
    this.channel = new SessionChannel(transport.channel, this.sessionNumber, incarnation, (error) =>
      reportChannelFailure(this, this.sessionId, error),
    );
    this.keys = new SessionKeys(this.sessionNumber, options.sessionKey);
    const order = new FifoOrder();
    const lease =
      transport.lease === undefined ? undefined : (options.lease?.(transport.lease) ?? transport.lease);
    this.liveness = new Liveness(
      clock,
      options.sessionTimeoutMs ?? 10_000,
      (state) => {
        // A client that lost touch listens again: whatever comes meanwhile (its session's end) is
        // taken as soon as it is back, as before it paused.
        if (state === 'DISCONNECTED') this.channel.resume();
        this.emit('state', state);
      },
      () => {
        // A failed ping needs no handling: the next one follows, and expiry is told on the channel.
        this.pipeline.request({ type: 'ping' }).catch(() => undefined);
      },
      lease === undefined
        ? undefined
        : // Signed with the session key: only a renewal its owner signed counts (session/lease.ts).
          (at) => lease.renew(this.keys.lease, this.keys.renewal(at)),
      {
        // Nothing to receive: a pausable channel stops polling until the next request.
        idle: () => {
          if (!this.pipeline.busy && !this.watches.holdsWatches() && !this.reader.waiting)
            this.channel.pause();
        },
        gone: () => this.shutdown('EXPIRED'),
        ...(lease?.renewalShare === undefined ? {} : { renewalShare: lease.renewalShare }),
      },
    );
    this.pipeline = new RequestPipeline({
      writerQueue: transport.writerQueue,
      clock,
      opTimeoutMs,
      sessionNumber: this.sessionNumber,
      sessionKey: this.keys.key,
      incarnation,
      order,
      ack: () => this.reader.channelZxid,
      checkUsable: () => this.liveness.checkUsable(),
      open: () => this.liveness.open,
      closed: () => this.liveness.state === 'CLOSED',
      sent: () => {
        this.liveness.sent();
        // Its reply comes on the channel: take messages again if idle had paused it.
        this.channel.resume();
      },
      sendFailed: () => this.liveness.sendFailed(),
      expired: () => this.shutdown('EXPIRED'),
    });
    this.reader = new ConsistentReader(
      transport.userStore,
      clock,
      opTimeoutMs,
      this.sessionId,
      order,
      this.watches,
      this.watchedCalls.readRequest((op, onReply) => this.pipeline.request(op, onReply)),
      (zxid) => this.watchedCalls.hold.letThrough(zxid),
    );
    this.reads = new NodeReads(this.reader, () => this.liveness.checkUsable());
  }

  /**
   * Opens a session and resolves once it is CONNECTED.
   * @throws FaaSKeeperError BADARGUMENTS for a bad timeout; OPERATIONTIMEOUT or CONNECTIONLOSS when the deployment does not answer.
   */
  static async connect(transport: ClientTransport, options: ClientOptions = {}): Promise<FaaSKeeperClient> {
    const timeout = connectArguments(options);
    // A resumer's incarnation is its own random id (its channel must exist before the writer answers).
    const incarnation = options.resume === true ? randomSessionId() : 0;
    const client = new FaaSKeeperClient(transport, options, incarnation);
    await client.channel.open(client.inbox());
    try {
      await openOrResume(client.pipeline, client.keys, client.liveness, incarnation, timeout);
      await client.channel.named(client.keys.sealing.key); // the reply gave the key: its secret channel
    } catch (error) {
      await client.channel.abandon();
      throw error;
    }
    client.liveness.opened();
    return client;
  }

  /** Which incarnation of the session this client is: 0 if it opened it, a random id if it resumed it. */
  get incarnation(): number {
    return this.channel.incarnation;
  }

  /** The session's timeout, ms (a resumed session's is the one it was opened with). */
  get sessionTimeoutMs(): number {
    return this.liveness.sessionTimeoutMs;
  }

  /** The session's state. */
  get state(): SessionState {
    return this.liveness.state;
  }

  /**
   * The highest zxid this client has seen: of its channel messages, or of the watermark it knows
   * (every transaction up to it is visible to its reads). ZooKeeper's `lastZxid` of a session.
   */
  get lastZxid(): number {
    return Math.max(this.reader.channelZxid, this.reader.watermark);
  }

  /**
   * Creates a node; resolves the created path (with its sequence suffix for sequential modes).
   * `data` absent stores empty bytes; `null` stores ZooKeeper's null (as zkCli's `create /a` does),
   * which `getData` tells apart with `nullData: true`.
   */
  async create(path: string, data?: Data, options: CreateOptions = {}): Promise<string> {
    return (await this.sendCreate(path, data, options)).path;
  }

  /**
   * Creates a node; resolves the created path and the new node's Stat (ZooKeeper's `create2`).
   * @throws FaaSKeeperError NODEEXISTS, NONODE (no parent), NOCHILDRENFOREPHEMERALS, BADARGUMENTS.
   */
  async createWithStat(
    path: string,
    data?: Data,
    options: CreateOptions = {},
  ): Promise<{ path: string; stat: Stat }> {
    const reply = await this.sendCreate(path, data, options);
    return { path: reply.path, stat: reply.stat };
  }

  /**
   * Reads a node's data and Stat. When the node's data is ZooKeeper's null (created or set with
   * `null`), `data` is empty and `nullData` is `true`; otherwise `nullData` is absent, so empty
   * bytes and null differ though both have `stat.dataLength` 0.
   * @throws FaaSKeeperError NONODE when it does not exist; NOAUTH without READ on it.
   */
  getData(path: string, options: WatchOption = {}): Promise<NodeData> {
    return this.watchedCalls.run(options.watch, () => this.reads.data(path, options.watch));
  }

  /** The node's Stat, or null when it does not exist (no permission needed, as in ZooKeeper). A watch set on a missing node fires on its creation. */
  exists(path: string, options: WatchOption = {}): Promise<Stat | null> {
    return this.watchedCalls.run(options.watch, () => this.reads.exists(path, options.watch));
  }

  /** The node's children (sorted) and Stat. @throws FaaSKeeperError NONODE when it does not exist; NOAUTH without READ. */
  getChildren(path: string, options: WatchOption = {}): Promise<{ children: string[]; stat: Stat }> {
    return this.watchedCalls.run(options.watch, () => this.reads.children(path, options.watch));
  }

  /**
   * Replaces a node's data; `null` stores ZooKeeper's null (`getData` then answers `nullData: true`),
   * bytes or a string clear it. @throws FaaSKeeperError NONODE, BADVERSION.
   */
  async setData(path: string, data: Data, options: VersionOption = {}): Promise<Stat> {
    return (await this.pipeline.request(setDataOp(path, data, options.version))).stat;
  }

  /** Deletes a node. @throws FaaSKeeperError NONODE, BADVERSION, NOTEMPTY. */
  async delete(path: string, options: VersionOption = {}): Promise<void> {
    await this.pipeline.request(deleteOp(path, options.version));
  }

  /**
   * Applies ops atomically. A failed multi applies nothing and rejects with a FaaSKeeperError whose
   * `results` hold `OK` before the failing op, its code, and `RUNTIMEINCONSISTENCY` after it.
   */
  async multi(ops: Op[]): Promise<OpResult[]> {
    return (await this.pipeline.request({ type: 'multi', ops: multiOps(ops) })).results;
  }

  /**
   * A node's ACL and Stat. Needs READ or ADMIN on the node; without ADMIN, digest ids are shown
   * without their hash (`user:x`), as ZooKeeper 3.8 shows them.
   * @throws FaaSKeeperError NONODE when it does not exist; NOAUTH without READ and ADMIN.
   */
  async getACL(path: string): Promise<NodeAcl> {
    return this.reads.acl(path);
  }

  /**
   * Replaces a node's ACL if its ACL version (`stat.aversion`) is `version` (-1, the default: any);
   * resolves the new Stat. Needs ADMIN on the node. `auth` entries stand for the session's
   * authenticated identities.
   * @throws FaaSKeeperError NONODE, NOAUTH, BADVERSION; INVALIDACL for an empty ACL, an unknown
   * scheme, a malformed id, or `auth` before any `addAuth`.
   */
  async setACL(path: string, acl: readonly ACL[], version = -1): Promise<Stat> {
    return (await this.pipeline.request(setACLOp(path, acl, version))).stat;
  }

  /**
   * Adds an identity to the session (ZooKeeper's `addAuthInfo`): `addAuth('digest', 'user:password')`
   * makes the session `digest:user:<base64 sha1>`, and the deployment's super password makes it
   * super (every permission). `addAuth('ip', attestAddress(key, sessionNumber, address))` is how a
   * gateway gives the session its client's address (the deployment's gateway key). Later writes and
   * reads are checked with the identities; they last as long as the session.
   * @throws FaaSKeeperError AUTHFAILED for another scheme or an ip address without a valid
   * attestation; the session is then closed, as ZooKeeper closes the connection of a failed
   * authentication.
   */
  async addAuth(scheme: string, auth: string | Uint8Array): Promise<void> {
    const request = authArguments(scheme, auth);
    try {
      await this.pipeline.request(request, ({ ids }) => {
        // Taken with the reply, so reads issued after this call already see the identities.
        this.reads.grant(ids);
      });
    } catch (error) {
      if (error instanceof FaaSKeeperError && error.code === 'AUTHFAILED') await this.close();
      throw error;
    }
  }

  /** Waits until every write acknowledged to any client before this call is visible to this client's reads. */
  async sync(path: string = ROOT): Promise<void> {
    validatePath(path);
    await this.pipeline.request({ type: 'sync', path });
  }

  /** Adds a watch that stays until removed: on the node, or on it and every descendant. */
  addWatch(path: string, watcher: Watcher, mode: AddWatchMode): Promise<void> {
    return this.watchedCalls.addWatch(async (replied) => {
      const watchClass = addWatchArguments(path, watcher, mode);
      await this.pipeline.request({ type: 'addWatch', path, mode }, () => {
        this.watches.add(path, watchClass, watcher);
        replied();
      });
    });
  }

  /**
   * Removes `watcher` (or every watcher) from `path`; no event reaches it afterwards. `type`
   * limits the removal to one class of watch: `data` (set by `getData` or `exists`), `children`,
   * `persistent` or `recursive` (set by `addWatch`); `any`, the default, removes all of them.
   * @throws FaaSKeeperError NOWATCHER when there is no such watch of that class.
   */
  async removeWatches(path: string, watcher?: Watcher, options: RemoveWatchesOptions = {}): Promise<void> {
    validatePath(path);
    const type = checkRemoveWatchType(options.type, path);
    const emptied = this.watches.remove(path, watcher, type);
    if (emptied.length > 0) await this.pipeline.request({ type: 'removeWatches', path, classes: emptied });
  }

  /** Ends the session: its ephemeral nodes are deleted and the client stops. */
  async close(): Promise<void> {
    if (this.liveness.state === 'CLOSED') return;
    if (this.liveness.state !== 'EXPIRED') {
      try {
        await this.pipeline.request({ type: 'closeSession' });
      } catch (error) {
        // The session ends anyway (the heartbeat expires it), unless the writer refused the close.
        if (closeRefused(error)) this.reportError(error);
      }
    }
    this.shutdown('CLOSED');
    await this.channel.close();
  }

  // ---- internals ---------------------------------------------------------------------------

  /** Both creates await this once, so pipelined calls settle in issue order whichever is used. */
  private sendCreate(
    path: string,
    data: Data | undefined,
    options: CreateOptions,
  ): Promise<ReplyFor<'create'>> {
    const fields = createFields(path, data, options.mode, options.ttlMs, options.acl);
    return this.pipeline.request({ type: 'create', ...fields });
  }

  /** The channel subscriber: each message reaches the module it is for. */
  private inbox(): (raw: string[]) => void {
    return channelInbox(
      {
        heard: () => this.liveness.heard(),
        watermark: (wm) => this.reader.advanceWatermark(wm),
        event: (event, classes) => this.watches.fire(event, classes, this.reportError),
        expired: () => this.shutdown('EXPIRED'),
        moved: () => this.shutdown('EXPIRED', 'moved'),
        reply: (reply) => this.pipeline.answer(reply),
        taken: (zxid) => this.reader.advanceChannel(zxid),
        error: this.reportError,
      },
      this.keys.sealing,
      this.watchedCalls.hold,
    );
  }

  /** A watcher's or message's failure, not thrown: held messages are taken where nothing catches. */
  private readonly reportError = (error: unknown): void =>
    reportChannelFailure(this, this.sessionId, error, 'a watcher or channel message');

  /** Ends the client; `moved`: another client resumed the session (this one shows EXPIRED, as ZooKeeper's). */
  private shutdown(state: 'EXPIRED' | 'CLOSED', why?: 'moved'): void {
    this.pipeline.failAll(sessionEndedError(state, why === 'moved'));
    this.reader.release();
    this.watches.clear();
    this.liveness.end(state);
    // Nobody awaits this close: a failure goes to 'error' listeners, or else to a process warning.
    if (state === 'EXPIRED') this.channel.end(why === 'moved');
  }
}
