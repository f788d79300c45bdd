/**
 * A ZooKeeper-protocol client written for the guarantee suite: the subset of the FaaSKeeperClient
 * API the suite drives, spoken over one TCP connection in ZooKeeper's client protocol (jute frames,
 * the records of `src/jute`), with a ZooKeeper client's behaviour — a handshake, xids answered in
 * order, pings at a third of the negotiated timeout, client-side watch bookkeeping (one-shot data,
 * exist and child watcher sets per path, persistent and recursive watches), a reconnect with the
 * session's id and password after a dropped connection (Expired when the session is gone).
 *
 * Everything a call reports comes from the wire: results and stats from the reply records, errors
 * from the reply's error number. Checked here, before sending, is only what a jute request cannot
 * carry (a version or TTL that is not an integer, a create mode without wire flags), as a Java
 * client's types refuse it.
 */
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import {
  type AddWatchMode,
  CreateMode,
  type CreateOptions,
  type Data,
  type ErrorCode,
  ErrorCodes,
  FaaSKeeperError,
  type NodeData,
  type Op,
  type OpResult,
  type RemoveWatchesOptions,
  type SessionState,
  type Stat,
  type VersionOption,
  type WatchEventType,
  type WatchedEvent,
  type Watcher,
  type WatchOption,
} from '@faaskeeper/core';
import { EventType, OpCode, WatcherType, AddWatchMode as WireWatchMode, Xid } from '../../src/codes.js';
import { JuteReader, JuteWriter } from '../../src/jute/io.js';
import { type MultiOp, MultiRequest, MultiResponse } from '../../src/jute/multi.js';
import {
  AddWatchRequest,
  ConnectRequest,
  ConnectResponse,
  Create2Response,
  GetChildren2Response,
  GetDataResponse,
  type JStat,
  PathRequest,
  PathResponse,
  PathTypeRequest,
  PathWatchRequest,
  ReplyHeader,
  RequestHeader,
  SetWatches2,
  StatResponse,
  WatcherEvent,
} from '../../src/jute/records.js';
import { openSocket } from '../raw-client.js';

/** The ACL every create sends: ZooKeeper's OPEN_ACL_UNSAFE. */
const OPEN_ACL = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];

/** Wire create flags of each mode (CreateMode.toFlag). */
const FLAGS: Record<CreateMode, number> = {
  PERSISTENT: 0,
  EPHEMERAL: 1,
  PERSISTENT_SEQUENTIAL: 2,
  EPHEMERAL_SEQUENTIAL: 3,
  CONTAINER: 4,
  PERSISTENT_WITH_TTL: 5,
  PERSISTENT_SEQUENTIAL_WITH_TTL: 6,
};

const EVENT_NAMES: Record<number, WatchEventType> = {
  [EventType.NodeCreated]: 'NodeCreated',
  [EventType.NodeDeleted]: 'NodeDeleted',
  [EventType.NodeDataChanged]: 'NodeDataChanged',
  [EventType.NodeChildrenChanged]: 'NodeChildrenChanged',
};

const CODE_NAMES = new Map<number, ErrorCode>(
  Object.entries(ErrorCodes).map(([name, errno]) => [errno, name as ErrorCode]),
);

/** The FaaSKeeperError of a ZooKeeper error number. */
export function errorOf(errno: number, path?: string): FaaSKeeperError {
  const code = CODE_NAMES.get(errno) ?? 'SYSTEMERROR';
  return new FaaSKeeperError(code, path === undefined ? code : `${code}: ${path}`, { path });
}

const utf8 = new TextEncoder();

/** A jute buffer of node data: a string as UTF-8, `null` as ZooKeeper's null (length -1). */
function writeData(w: JuteWriter, data: Data | undefined): void {
  w.nullableBuffer(data === null ? null : bytesOf(data));
}

/** A jute Stat as the core's (the wire's longs are within 2^53 for every zxid and time here). */
export function statOf(s: JStat): Stat {
  return {
    czxid: Number(s.czxid),
    mzxid: Number(s.mzxid),
    ctime: Number(s.ctime),
    mtime: Number(s.mtime),
    version: s.version,
    cversion: s.cversion,
    aversion: s.aversion,
    ephemeralOwner: Number(s.ephemeralOwner),
    dataLength: s.dataLength,
    numChildren: s.numChildren,
    pzxid: Number(s.pzxid),
  };
}

const badArguments = (what: string, path: string) =>
  new FaaSKeeperError('BADARGUMENTS', `BADARGUMENTS: ${what}`, { path });

/** A version as an int of the wire; anything else is refused as a Java client's `int` would. */
function wireVersion(options: VersionOption, path: string): number {
  const v = options.version ?? -1;
  if (!Number.isInteger(v) || v < -(2 ** 31) || v >= 2 ** 31) throw badArguments(`bad version ${v}`, path);
  return v;
}

/** A create request: its opcode (create, create2, createContainer or createTTL) and record. */
interface CreateCall {
  type: 1 | 15 | 19 | 21;
  path: string;
  data: Data | undefined;
  flags: number;
  ttl?: bigint;
}

/** The create request of `path` in `options`' mode; `withStat` asks for create2's reply. */
function createRequest(
  path: string,
  data: Data | undefined,
  options: CreateOptions,
  withStat: boolean,
): CreateCall {
  const mode = options.mode ?? CreateMode.PERSISTENT;
  const flags = FLAGS[mode];
  if (flags === undefined) throw badArguments(`unknown create mode ${String(mode)}`, path);
  const ttl = options.ttlMs;
  if (ttl !== undefined && !Number.isSafeInteger(ttl)) throw badArguments(`bad TTL ${ttl}`, path);
  // A TTL goes with createTTL whatever the mode (the gateway refuses a TTL with another mode), and
  // a TTL mode without a TTL sends -1, as a Java client passes it: the gateway judges both.
  if (ttl !== undefined || flags === 5 || flags === 6)
    return { type: OpCode.createTTL, path, data, flags, ttl: BigInt(ttl ?? -1) };
  const type =
    mode === CreateMode.CONTAINER ? OpCode.createContainer : withStat ? OpCode.create2 : OpCode.create;
  return { type, path, data, flags };
}

/** Writes a create request's record (CreateRequest, or CreateTTLRequest with its TTL). */
function writeCreate(w: JuteWriter, c: CreateCall): void {
  w.ustring(c.path);
  writeData(w, c.data);
  w.int(OPEN_ACL.length);
  for (const a of OPEN_ACL) w.int(a.perms).ustring(a.id.scheme).ustring(a.id.id);
  w.int(c.flags);
  if (c.ttl !== undefined) w.long(c.ttl);
}

/** One request waiting for its reply (or, while disconnected, for its sending). */
interface Pending {
  type: number;
  body: Uint8Array;
  xid?: number;
  path: string;
  resolve(r: JuteReader): void;
  reject(e: FaaSKeeperError): void;
}

type WatchSet = Map<string, Set<Watcher>>;

/** Options of {@link WireClient.connect}. */
export interface WireClientOptions {
  /** The session timeout asked for in the handshake, ms. */
  sessionTimeoutMs: number;
}

/**
 * A ZooKeeper session over the gateway. `state` and `on('state')` follow ZooKeeper's client:
 * CONNECTED, DISCONNECTED while the connection is down, EXPIRED when the gateway answers a
 * reconnect with Expired, CLOSED after `close()`.
 */
export class WireClient extends EventEmitter<{ state: [SessionState]; error: [unknown] }> {
  sessionNumber = 0;
  sessionId = '0';
  /** The timeout the gateway negotiated, ms. */
  timeoutMs = 0;
  /** The highest zxid a reply header carried. */
  lastZxid = 0;
  private current: SessionState = 'CONNECTING';
  private socket: Socket | undefined;
  private passwd: Uint8Array = new Uint8Array(16);
  private buf: Buffer = Buffer.alloc(0);
  private nextXid = 1;
  /** Sent, in xid order: the gateway answers in that order. */
  private readonly sent: Pending[] = [];
  /** Issued while disconnected: sent once the session is back. */
  private readonly unsent: Pending[] = [];
  private pinger: NodeJS.Timeout | undefined;
  private stopped = false;
  /** Awaited before reconnecting (see {@link WireClient.dropConnection}). */
  private reconnectGate: Promise<void> = Promise.resolve();
  private readonly data: WatchSet = new Map();
  private readonly exist: WatchSet = new Map();
  private readonly child: WatchSet = new Map();
  private readonly persistent: WatchSet = new Map();
  private readonly recursive: WatchSet = new Map();

  private constructor(
    private readonly port: number,
    private readonly options: WireClientOptions,
  ) {
    super();
  }

  /** Opens a new session on the gateway at `port` (127.0.0.1); resolves once CONNECTED. */
  static async connect(port: number, options: WireClientOptions): Promise<WireClient> {
    const client = new WireClient(port, options);
    if (!(await client.handshake())) throw new FaaSKeeperError('SESSIONEXPIRED', 'SESSIONEXPIRED: refused');
    client.setState('CONNECTED');
    return client;
  }

  get state(): SessionState {
    return this.current;
  }

  // ---- the FaaSKeeperClient API --------------------------------------------------------------

  async create(path: string, data?: Data, options: CreateOptions = {}): Promise<string> {
    const req = createRequest(path, data, options, false);
    const r = await this.call(req.type, path, (w) => writeCreate(w, req));
    if (req.type !== OpCode.create) return Create2Response.read(r).path;
    return PathResponse.read(r).path;
  }

  async createWithStat(
    path: string,
    data?: Data,
    options: CreateOptions = {},
  ): Promise<{ path: string; stat: Stat }> {
    const req = createRequest(path, data, options, true);
    const res = Create2Response.read(await this.call(req.type, path, (w) => writeCreate(w, req)));
    return { path: res.path, stat: statOf(res.stat) };
  }

  async getData(path: string, options: WatchOption = {}): Promise<NodeData> {
    const r = await this.watchedRead(OpCode.getData, path, options.watch, this.data);
    const res = GetDataResponse.read(r);
    const stat = statOf(res.stat);
    return res.data === null ? { data: new Uint8Array(0), stat, nullData: true } : { data: res.data, stat };
  }

  async exists(path: string, options: WatchOption = {}): Promise<Stat | null> {
    const watcher = options.watch;
    try {
      // Registered as an exist watch; on success it is a data watch (ZooKeeper's ExistsWatchRegistration).
      const r = await this.watchedRead(OpCode.exists, path, watcher, this.exist, true);
      if (watcher !== undefined) {
        this.remove(this.exist, path, watcher);
        add(this.data, path, watcher);
      }
      return statOf(StatResponse.read(r).stat);
    } catch (error) {
      if (error instanceof FaaSKeeperError && error.code === 'NONODE') return null;
      throw error;
    }
  }

  async getChildren(path: string, options: WatchOption = {}): Promise<{ children: string[]; stat: Stat }> {
    const r = await this.watchedRead(OpCode.getChildren2, path, options.watch, this.child);
    const res = GetChildren2Response.read(r);
    return { children: [...res.children].sort(), stat: statOf(res.stat) };
  }

  async setData(path: string, data: Data, options: VersionOption = {}): Promise<Stat> {
    const version = wireVersion(options, path);
    const r = await this.call(OpCode.setData, path, (w) => {
      w.ustring(path);
      writeData(w, data);
      w.int(version);
    });
    return statOf(StatResponse.read(r).stat);
  }

  async delete(path: string, options: VersionOption = {}): Promise<void> {
    const version = wireVersion(options, path);
    await this.call(OpCode.delete, path, (w) => w.ustring(path).int(version));
  }

  async multi(ops: Op[]): Promise<OpResult[]> {
    const wire: MultiOp[] = ops.map((o) => multiOp(o));
    const r = await this.call(OpCode.multi, '/', (w) => MultiRequest.write(w, wire));
    const results = MultiResponse.read(r);
    const failed = results.find((res) => res.type === -1 && res.err !== 0);
    if (failed !== undefined && failed.type === -1) {
      const codes = results.map((res) => ({
        code: CODE_NAMES.get(res.type === -1 ? res.err : 0) ?? 'SYSTEMERROR',
      }));
      const at = results.indexOf(failed);
      const code = CODE_NAMES.get(failed.err) ?? 'SYSTEMERROR';
      throw new FaaSKeeperError(code, `${code}: ${ops[at]?.path ?? ''}`, {
        path: ops[at]?.path,
        results: codes,
      });
    }
    return results.map((res): OpResult => {
      switch (res.type) {
        case 1:
        case 15:
          return { op: 'create', path: res.res.path };
        case 5:
          return { op: 'setData', stat: statOf(res.res.stat) };
        case 2:
          return { op: 'delete' };
        case 13:
          return { op: 'check' };
        default:
          throw new FaaSKeeperError(
            'MARSHALLINGERROR',
            `MARSHALLINGERROR: result type ${res.type} in a multi`,
          );
      }
    });
  }

  async sync(path = '/'): Promise<void> {
    await this.call(OpCode.sync, path, (w) => PathRequest.write(w, { path }));
  }

  async addWatch(path: string, watcher: Watcher, mode: AddWatchMode): Promise<void> {
    if (typeof watcher !== 'function') throw badArguments('the watcher is not a function', path);
    const wireMode =
      mode === 'PERSISTENT'
        ? WireWatchMode.Persistent
        : mode === 'PERSISTENT_RECURSIVE'
          ? WireWatchMode.PersistentRecursive
          : undefined;
    if (wireMode === undefined) throw badArguments(`bad watch mode ${String(mode)}`, path);
    await this.call(OpCode.addWatch, path, (w) => AddWatchRequest.write(w, { path, mode: wireMode }));
    add(wireMode === WireWatchMode.Persistent ? this.persistent : this.recursive, path, watcher);
  }

  /**
   * Removes `watcher` (or every watcher) of the classes `type` names from `path`, here first (no
   * event reaches it afterwards), then on the gateway for each class left without a watcher.
   */
  async removeWatches(path: string, watcher?: Watcher, options: RemoveWatchesOptions = {}): Promise<void> {
    const type = options.type ?? 'any';
    const classes: [Exclude<RemoveWatchesOptions['type'], 'any' | undefined>, WatchSet[], number][] = [
      ['data', [this.data, this.exist], WatcherType.Data],
      ['children', [this.child], WatcherType.Children],
      ['persistent', [this.persistent], WatcherType.Persistent],
      ['recursive', [this.recursive], WatcherType.PersistentRecursive],
    ];
    const emptied: number[] = [];
    let found = false;
    for (const [name, sets, wireType] of classes) {
      if (type !== 'any' && type !== name) continue;
      let removedHere = false;
      for (const set of sets) {
        const held = set.get(path);
        if (held === undefined) continue;
        if (watcher === undefined) {
          removedHere = true;
          set.delete(path);
        } else if (this.remove(set, path, watcher)) removedHere = true;
      }
      if (!removedHere) continue;
      found = true;
      if (sets.every((s) => !s.has(path))) emptied.push(wireType);
    }
    if (!found) throw new FaaSKeeperError('NOWATCHER', `NOWATCHER: ${path}`, { path });
    for (const wireType of emptied) {
      try {
        await this.call(OpCode.removeWatches, path, (w) =>
          PathTypeRequest.write(w, { path, type: wireType }),
        );
      } catch (error) {
        // A one-shot watch that fired on the gateway meanwhile is gone there already; its event,
        // on its way, finds no watcher here: what the caller asked for.
        if (!(error instanceof FaaSKeeperError && error.code === 'NOWATCHER')) throw error;
      }
    }
  }

  /** Closes the session (closeSession), then the connection; CLOSED. */
  async close(): Promise<void> {
    if (this.current === 'CLOSED') return;
    if (this.current !== 'EXPIRED' && this.socket !== undefined && !this.socket.destroyed) {
      try {
        await this.call(OpCode.closeSession, '/', () => undefined);
      } catch (error) {
        // The session ends anyway: the gateway closes it when the connection goes.
        if (!(error instanceof FaaSKeeperError)) throw error;
      }
    }
    this.end('CLOSED');
  }

  /**
   * Drops the connection as a network failure would (tests): the client is DISCONNECTED and
   * reconnects to its session once `reconnect` resolves.
   */
  dropConnection(reconnect: Promise<void> = Promise.resolve()): void {
    this.reconnectGate = reconnect;
    this.socket?.destroy();
  }

  /** Drops the connection and stops reconnecting, without closing the session (teardown). */
  stop(): void {
    this.stopped = true;
    clearInterval(this.pinger);
    this.socket?.destroy();
  }

  // ---- requests and replies -----------------------------------------------------------------

  /** A read with an optional watch of `set`, the watcher registered as the request goes. */
  private async watchedRead(
    type: number,
    path: string,
    watcher: Watcher | undefined,
    set: WatchSet,
    keepOnNoNode = false,
  ): Promise<JuteReader> {
    if (watcher !== undefined && typeof watcher !== 'function')
      throw badArguments('the watcher is not a function', path);
    // Registered as the request goes: the gateway may send the watch's event in the same turn as
    // the reply, and an event must find its watcher.
    const added = watcher !== undefined && add(set, path, watcher);
    try {
      return await this.call(type, path, (w) =>
        PathWatchRequest.write(w, { path, watch: watcher !== undefined }),
      );
    } catch (error) {
      const kept = keepOnNoNode && error instanceof FaaSKeeperError && error.code === 'NONODE';
      if (added && !kept) this.remove(set, path, watcher);
      throw error;
    }
  }

  private call(type: number, path: string, write: (w: JuteWriter) => void): Promise<JuteReader> {
    if (this.current === 'EXPIRED' || this.current === 'CLOSED')
      return Promise.reject(
        new FaaSKeeperError(
          'SESSIONEXPIRED',
          this.current === 'EXPIRED'
            ? 'SESSIONEXPIRED: the session has expired'
            : 'SESSIONEXPIRED: the client is closed',
        ),
      );
    const w = new JuteWriter();
    write(w);
    return new Promise((resolve, reject) => {
      const p: Pending = { type, body: w.finish(), path, resolve, reject };
      if (this.current === 'CONNECTED') this.send(p);
      else this.unsent.push(p);
    });
  }

  private send(p: Pending): void {
    p.xid = this.nextXid++;
    this.sent.push(p);
    this.writeFrame(p.xid, p.type, p.body);
  }

  private writeFrame(xid: number, type: number, body: Uint8Array): void {
    const w = new JuteWriter();
    RequestHeader.write(w, { xid, type });
    w.bytes(body);
    this.socket?.write(w.frame());
  }

  private onData(chunk: Buffer): void {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    while (this.buf.length >= 4 && this.buf.length >= 4 + this.buf.readInt32BE(0)) {
      const len = this.buf.readInt32BE(0);
      const frame = new Uint8Array(this.buf.subarray(4, 4 + len));
      this.buf = this.buf.subarray(4 + len);
      this.onFrame(frame);
    }
  }

  private onFrame(frame: Uint8Array): void {
    const r = new JuteReader(frame);
    const h = ReplyHeader.read(r);
    if (h.zxid > 0n) this.lastZxid = Math.max(this.lastZxid, Number(h.zxid));
    if (h.xid === Xid.notification) {
      this.deliver(WatcherEvent.read(r));
      return;
    }
    if (h.xid === Xid.ping || h.xid === Xid.setWatches) return;
    const p = this.sent.shift();
    if (p === undefined || p.xid !== h.xid) {
      // Replies come in request order; anything else means the stream cannot be trusted.
      this.report(new Error(`reply xid ${h.xid}, expected ${p?.xid ?? 'none'}`));
      this.socket?.destroy();
      return;
    }
    if (h.err !== 0) p.reject(errorOf(h.err, p.path));
    else p.resolve(r);
  }

  // ---- watches ------------------------------------------------------------------------------

  private remove(set: WatchSet, path: string, watcher: Watcher): boolean {
    const held = set.get(path);
    if (held === undefined || !held.delete(watcher)) return false;
    if (held.size === 0) set.delete(path);
    return true;
  }

  /** ZooKeeper's ZKWatchManager.materialize: the watchers an event reaches, one-shot ones removed. */
  private deliver(e: { type: number; path: string }): void {
    const type = EVENT_NAMES[e.type];
    if (type === undefined) return; // a state event (type None): the connection's state says it
    const targets = new Set<Watcher>();
    const take = (set: WatchSet) => {
      for (const w of set.get(e.path) ?? []) targets.add(w);
      set.delete(e.path);
    };
    if (type === 'NodeChildrenChanged') take(this.child);
    else {
      take(this.data);
      take(this.exist);
      if (type === 'NodeDeleted') take(this.child);
    }
    for (const w of this.persistent.get(e.path) ?? []) targets.add(w);
    if (type !== 'NodeChildrenChanged')
      for (const [p, ws] of this.recursive)
        if (p === e.path || p === '/' || e.path.startsWith(`${p}/`)) for (const w of ws) targets.add(w);
    const event: WatchedEvent = { type, path: e.path };
    for (const w of targets) {
      try {
        w(event);
      } catch (error) {
        // A throwing watcher must not stop the others: reported as the core client does.
        this.report(error);
      }
    }
  }

  // ---- connection and session ---------------------------------------------------------------

  /** An error nobody awaits: to 'error' listeners, else a process warning (never a throw). */
  private report(error: unknown): void {
    if (this.listenerCount('error') > 0) this.emit('error', error);
    else process.emitWarning(`wire client of session ${this.sessionId}: ${String(error)}`);
  }

  private setState(state: SessionState): void {
    if (state === this.current) return;
    this.current = state;
    this.emit('state', state);
  }

  /**
   * Opens a connection and does the handshake: a new session, or the current one resumed with
   * its id, password and last zxid. False when the gateway answers Expired.
   */
  private async handshake(): Promise<boolean> {
    const socket = await openSocket(this.port);
    socket.setNoDelay(true);
    // A reset is reported; the 'close' that follows it is what the client acts on.
    socket.on('error', (error) => this.report(error));
    const answer = new Promise<Uint8Array>((resolve, reject) => {
      let pending = Buffer.alloc(0);
      const onData = (chunk: Buffer) => {
        pending = Buffer.concat([pending, chunk]);
        if (pending.length < 4 || pending.length < 4 + pending.readInt32BE(0)) return;
        socket.off('data', onData);
        socket.off('close', onClose);
        const len = pending.readInt32BE(0);
        this.buf = pending.subarray(4 + len);
        resolve(new Uint8Array(pending.subarray(4, 4 + len)));
      };
      const onClose = () =>
        reject(new FaaSKeeperError('CONNECTIONLOSS', 'CONNECTIONLOSS: closed in the handshake'));
      socket.on('data', onData);
      socket.once('close', onClose);
    });
    const w = new JuteWriter();
    ConnectRequest.write(w, {
      protocolVersion: 0,
      lastZxidSeen: BigInt(this.lastZxid),
      timeOut: this.options.sessionTimeoutMs,
      sessionId: BigInt(this.sessionNumber),
      passwd: this.passwd,
      readOnly: false,
    });
    socket.write(w.frame());
    const res = ConnectResponse.read(new JuteReader(await answer));
    if (res.timeOut <= 0) {
      socket.destroy();
      return false;
    }
    this.socket = socket;
    this.sessionNumber = Number(res.sessionId);
    this.sessionId = String(this.sessionNumber);
    this.passwd = res.passwd;
    this.timeoutMs = res.timeOut;
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.once('close', () => void this.onClosed(socket));
    clearInterval(this.pinger);
    this.pinger = setInterval(
      () => this.writeFrame(Xid.ping, OpCode.ping, new Uint8Array(0)),
      res.timeOut / 3,
    );
    this.pinger.unref();
    if (this.buf.length > 0) this.onData(Buffer.alloc(0));
    return true;
  }

  /** The connection went: DISCONNECTED, then a reconnect to the same session. */
  private async onClosed(socket: Socket): Promise<void> {
    if (socket !== this.socket || this.stopped || this.current === 'CLOSED' || this.current === 'EXPIRED')
      return;
    this.socket = undefined;
    clearInterval(this.pinger);
    this.setState('DISCONNECTED');
    // The requests the gateway did not answer: their outcome is unknown (CONNECTIONLOSS), as a
    // ZooKeeper client tells it. Those issued while disconnected wait for the session to be back.
    for (const p of this.sent.splice(0)) p.reject(errorOf(ErrorCodes.CONNECTIONLOSS, p.path));
    await this.reconnectGate;
    const deadline = Date.now() + this.timeoutMs;
    for (;;) {
      if (this.stopped) return;
      let resumed: boolean;
      try {
        resumed = await this.handshake();
      } catch (error) {
        if (Date.now() > deadline) {
          this.report(error);
          for (const p of this.unsent.splice(0)) p.reject(errorOf(ErrorCodes.CONNECTIONLOSS, p.path));
          return;
        }
        await new Promise((r) => setTimeout(r, 20));
        continue;
      }
      if (!resumed) {
        this.end('EXPIRED');
        return;
      }
      this.rearmWatches();
      this.setState('CONNECTED');
      for (const p of this.unsent.splice(0)) this.send(p);
      return;
    }
  }

  /** setWatches2 (xid -8): the gateway re-arms the watches this client holds, firing those missed. */
  private rearmWatches(): void {
    const paths = (set: WatchSet) => [...set.keys()];
    if ([this.data, this.exist, this.child, this.persistent, this.recursive].every((s) => s.size === 0))
      return;
    const w = new JuteWriter();
    SetWatches2.write(w, {
      relativeZxid: BigInt(this.lastZxid),
      dataWatches: paths(this.data),
      existWatches: paths(this.exist),
      childWatches: paths(this.child),
      persistentWatches: paths(this.persistent),
      persistentRecursiveWatches: paths(this.recursive),
    });
    this.writeFrame(Xid.setWatches, OpCode.setWatches2, w.finish());
  }

  /** The session is over: every request fails with SESSIONEXPIRED, no watch stays. */
  private end(state: 'EXPIRED' | 'CLOSED'): void {
    this.stopped = true;
    clearInterval(this.pinger);
    const message =
      state === 'EXPIRED'
        ? 'SESSIONEXPIRED: the session has expired'
        : 'SESSIONEXPIRED: the client is closed';
    for (const p of [...this.sent.splice(0), ...this.unsent.splice(0)])
      p.reject(new FaaSKeeperError('SESSIONEXPIRED', message));
    for (const set of [this.data, this.exist, this.child, this.persistent, this.recursive]) set.clear();
    this.socket?.destroy();
    this.socket = undefined;
    this.setState(state);
  }
}

/** Adds `watcher` to `set` at `path`; false when it was there already. */
function add(set: WatchSet, path: string, watcher: Watcher): boolean {
  const held = set.get(path) ?? new Set<Watcher>();
  set.set(path, held);
  if (held.has(watcher)) return false;
  held.add(watcher);
  return true;
}

/** One op of a multi in its wire form (`null` data as ZooKeeper's null, length -1). */
function multiOp(o: Op): MultiOp {
  switch (o.op) {
    case 'create': {
      const c = createRequest(o.path, o.data, pick(o), false);
      const data = c.data === null ? null : bytesOf(c.data);
      const common = { path: c.path, data, acl: OPEN_ACL, flags: c.flags };
      if (c.type === OpCode.createTTL) return { type: 21, req: { ...common, ttl: c.ttl ?? -1n } };
      return { type: c.type === OpCode.createContainer ? 19 : 1, req: common };
    }
    case 'delete':
      return { type: 2, req: { path: o.path, version: wireVersion(o, o.path) } };
    case 'check':
      return { type: 13, req: { path: o.path, version: wireVersion(o, o.path) } };
    case 'setData':
      return {
        type: 5,
        req: {
          path: o.path,
          data: o.data === null ? null : bytesOf(o.data),
          version: wireVersion(o, o.path),
        },
      };
  }
}

function pick(o: Extract<Op, { op: 'create' }>): CreateOptions {
  return {
    ...(o.mode === undefined ? {} : { mode: o.mode }),
    ...(o.ttlMs === undefined ? {} : { ttlMs: o.ttlMs }),
  };
}

function bytesOf(data: Data | undefined): Uint8Array {
  return typeof data === 'string' ? utf8.encode(data) : (data ?? new Uint8Array(0));
}
