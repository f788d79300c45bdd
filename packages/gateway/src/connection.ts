import type { Socket } from 'node:net';
import { Err, type FourLetterWord, fourLetterWord, KeeperState, OpCode, Xid } from './codes.js';
import { type AuthId, type OpContext, REPLY_HEADER_BYTES, type Reply, writeLong } from './context.js';
import { type JuteError, JuteReader } from './jute/io.js';
import {
  ConnectRequest,
  ConnectResponse,
  frame,
  ReplyHeader,
  RequestHeader,
  WatcherEvent,
} from './jute/records.js';
import { type GatewayLog, hexId } from './log.js';
import { dispatch } from './ops.js';
import type { GatewaySession, SessionConnection } from './session.js';
import type { Resume, SessionTable } from './sessions.js';

/** Most requests one connection may have unanswered before the gateway stops reading it. */
const MAX_IN_FLIGHT = 1000;

/**
 * One reply frame: its length, the ReplyHeader (xid, zxid, err) and the body, built in one buffer
 * (the hot path: a JuteWriter would grow, copy the body in and copy the whole again for the frame).
 */
function replyFrame(xid: number, zxid: number, err: number, body: Uint8Array | undefined): Uint8Array {
  const out = Buffer.allocUnsafe(REPLY_HEADER_BYTES + (body?.byteLength ?? 0));
  writeReplyHeader(out, xid, zxid, err);
  if (body !== undefined) out.set(body, REPLY_HEADER_BYTES);
  return out;
}

/** The length prefix and ReplyHeader at the start of `frame`, whose body follows them. */
function writeReplyHeader(frame: Buffer, xid: number, zxid: number, err: number): Buffer {
  frame.writeInt32BE(frame.byteLength - 4, 0);
  frame.writeInt32BE(xid, 4);
  writeLong(frame, zxid, 8);
  frame.writeInt32BE(err, 16);
  return frame;
}

/** The answer to a ping (shared: replies are never changed once made). */
const PING_REPLY: Reply = { err: Err.OK };

/**
 * A request's place in the reply order: filled when its answer is ready, written when every
 * earlier one has been. `afterWritten` runs once every earlier reply is written (closeAfterReplies).
 */
interface ReplySlot {
  xid: number;
  res: Reply | undefined;
  afterWritten?: () => void;
  /** Steps run right after this slot's reply is written (watch events that must follow it). */
  afterReply?: (() => void)[];
}

/** The client's IP address as ZooKeeper reports it (an IPv4 client of a dual-stack socket without its ::ffff: prefix). */
export function clientAddress(socket: Socket): string {
  const address = socket.remoteAddress ?? 'unknown';
  return address.startsWith('::ffff:') ? address.slice('::ffff:'.length) : address;
}

/** What every connection shares with the gateway. */
export interface GatewayContext {
  sessions: SessionTable;
  maxBuffer: number;
  connectTimeoutMs: number;
  maxQueuedBytes: number;
  log: GatewayLog;
  stats: { received: number; sent: number };
  connections: Set<Connection>;
  fourLetter(word: FourLetterWord): Promise<string>;
}

/**
 * One client TCP connection: frames (a 4-byte length, at most maxBuffer), then the handshake or a
 * four-letter word, then requests. Requests are issued in order and their replies written in
 * order, even when a later one finishes first; notifications go out as they come.
 */
export class Connection implements SessionConnection {
  readonly remote: string;
  readonly address: string;
  private pending: Buffer = Buffer.alloc(0);
  private phase: 'handshake' | 'connecting' | 'open' | 'closed' = 'handshake';
  private session: GatewaySession | undefined;
  private readonly authIds: AuthId[];
  /**
   * A barrier (the handshake) that holds back the requests after it, chained on it in order;
   * `undefined` once it and every request chained on it have been issued, and requests are issued
   * as they are read, with no promise per request.
   */
  private issue: Promise<void> | undefined;
  /** Replies in request order, the oldest first; answered ones wait for those before them. */
  private readonly replies: ReplySlot[] = [];
  /** The socket is corked until the end of this tick: the tick's replies go in one write. */
  private corked = false;
  private inFlight = 0;
  private paused = false;
  /** When the client last sent anything; a session whose client is silent for its timeout expires. */
  private lastHeard = Date.now();
  private idleTimer: NodeJS.Timeout | undefined;
  private readonly connectTimer: NodeJS.Timeout;
  readonly stats = { received: 0, sent: 0 };
  private opCtx: OpContext | undefined;
  /** The slot of the request whose operation is starting (ops start synchronously, see ops.ts). */
  private issuing: ReplySlot | undefined;

  constructor(
    private readonly socket: Socket,
    private readonly ctx: GatewayContext,
  ) {
    this.address = clientAddress(socket);
    this.remote = `${this.address}:${socket.remotePort ?? 0}`;
    this.authIds = [{ scheme: 'ip', id: this.address }];
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (error) => this.close(`socket error: ${error.message}`));
    socket.on('close', () => this.close('the client closed the connection'));
    this.connectTimer = setTimeout(
      () => this.close(`no handshake within ${ctx.connectTimeoutMs} ms`),
      ctx.connectTimeoutMs,
    );
    this.connectTimer.unref();
  }

  /** Requests not answered yet. */
  get queued(): number {
    return this.inFlight;
  }

  private get closed(): boolean {
    return this.phase === 'closed';
  }

  notify(type: number, path: string): void {
    if (this.phase !== 'open') return;
    this.write(
      frame((w) => {
        ReplyHeader.write(w, { xid: Xid.notification, zxid: -1n, err: 0 });
        WatcherEvent.write(w, { type, state: KeeperState.SyncConnected, path });
      }),
    );
  }

  close(reason: string): void {
    if (this.phase === 'closed') return;
    const wasOpen = this.phase === 'open';
    this.phase = 'closed';
    clearTimeout(this.connectTimer);
    clearTimeout(this.idleTimer);
    this.ctx.connections.delete(this);
    const session = this.session;
    this.ctx.log({
      level: 'info',
      event: 'closed',
      remote: this.remote,
      ...(session === undefined ? {} : { session: hexId(session.id) }),
      reason,
    });
    if (wasOpen) session?.detach(this);
    // end() lets written replies (an Expired answer, a close reply) reach the client first.
    this.socket.end();
    const killer = setTimeout(() => this.socket.destroy(), 1000);
    killer.unref();
    this.socket.once('close', () => clearTimeout(killer));
  }

  closeAfterReplies(reason: string): void {
    if (this.phase === 'closed') return;
    // Behind the requests already read (the issue chain) and their replies (the reply chain). A
    // reply that never came would hold the connection open: it is closed after a second anyway.
    const force = setTimeout(() => this.close(reason), 1000);
    force.unref();
    const slot: ReplySlot = {
      xid: 0,
      res: undefined,
      afterWritten: () => {
        clearTimeout(force);
        this.close(reason);
      },
    };
    this.afterIssued(() => {
      this.replies.push(slot);
      this.flushReplies();
    });
  }

  /** Runs `step` after every request read so far has been issued (at once, when nothing waits). */
  private afterIssued(step: () => void): void {
    if (this.issue === undefined) {
      step();
      return;
    }
    const chained = this.issue.then(step);
    this.issue = chained;
    // Once the chain has run out, later requests are issued directly again.
    void chained.then(() => {
      if (this.issue === chained) this.issue = undefined;
    });
  }

  /**
   * Writes a frame. Everything written in a tick (the replies a burst of requests finished with,
   * their notifications) goes to the kernel in one writev at the end of it, not a syscall each;
   * but a reply with no other request outstanding (`alone`) goes at once when nothing waits in the
   * cork: its client waits for nothing else, and the rest of the tick (the writer and distributor
   * finishing the batch, acknowledging it, polling again) is no business of its latency.
   */
  private write(bytes: Uint8Array, alone = false): void {
    if (this.phase === 'closed') return;
    if (!this.corked && !alone) {
      this.corked = true;
      this.socket.cork();
      process.nextTick(() => {
        this.corked = false;
        this.socket.uncork();
      });
    }
    this.socket.write(bytes);
    this.stats.sent++;
    this.ctx.stats.sent++;
    if (this.socket.writableLength > this.ctx.maxQueuedBytes) {
      // The client does not read its replies: drop it rather than buffer without bound.
      this.close(`over ${this.ctx.maxQueuedBytes} bytes queued: the client is not reading`);
      this.socket.destroy();
    }
  }

  private onData(chunk: Buffer): void {
    if (this.phase === 'closed') return;
    this.lastHeard = Date.now();
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    while (!this.closed && this.pending.length >= 4) {
      if (this.phase === 'handshake' && this.stats.received === 0) {
        const word = fourLetterWord(this.pending);
        if (word !== undefined) {
          this.stats.received++;
          this.pending = Buffer.alloc(0);
          void this.answerWord(word);
          return;
        }
      }
      const len = this.pending.readInt32BE(0);
      if (len < 0 || len > this.ctx.maxBuffer) {
        this.close(`frame length ${len} is outside 0..${this.ctx.maxBuffer} (jute.maxbuffer)`);
        this.socket.destroy();
        return;
      }
      if (this.pending.length < 4 + len) return;
      const body = new Uint8Array(this.pending.subarray(4, 4 + len));
      this.pending = this.pending.subarray(4 + len);
      this.stats.received++;
      this.ctx.stats.received++;
      this.onFrame(body);
    }
  }

  /**
   * ZooKeeper expires a session whose client sends nothing, not even pings, for the session
   * timeout (what the gateway itself writes does not count).
   */
  private watchIdle(session: GatewaySession): void {
    const left = this.lastHeard + session.timeoutMs - Date.now();
    this.idleTimer = setTimeout(
      () => {
        if (this.closed) return;
        if (Date.now() - this.lastHeard >= session.timeoutMs)
          void session.close('no request or ping within the session timeout');
        else this.watchIdle(session);
      },
      Math.max(0, left),
    );
    this.idleTimer.unref();
  }

  private async answerWord(word: FourLetterWord): Promise<void> {
    clearTimeout(this.connectTimer);
    const text = await this.ctx.fourLetter(word).catch((e: unknown) => `error: ${String(e)}\n`);
    if (this.phase === 'closed') return;
    this.socket.write(text);
    this.close(`four-letter word ${word}`);
  }

  private onFrame(body: Uint8Array): void {
    if (this.phase === 'handshake') {
      let req: ConnectRequest;
      try {
        req = ConnectRequest.read(new JuteReader(body));
      } catch (error) {
        this.close(`malformed connect request: ${(error as Error).message}`);
        return;
      }
      this.phase = 'connecting';
      const barrier = this.handshake(req);
      this.issue = barrier;
      void barrier.then(() => {
        if (this.issue === barrier) this.issue = undefined;
      });
      return;
    }
    // Counted as it arrives, so that a burst in one chunk stops the reading at once.
    this.inFlight++;
    if (this.inFlight >= MAX_IN_FLIGHT && !this.paused) {
      this.paused = true;
      this.socket.pause();
    }
    if (this.issue === undefined) this.request(body);
    else this.afterIssued(() => this.request(body));
  }

  private async handshake(req: ConnectRequest): Promise<void> {
    const oldForm = req.readOnly === undefined;
    const answer = (timeOut: number, sessionId: bigint, passwd: Uint8Array) =>
      frame((w) =>
        ConnectResponse.write(w, {
          protocolVersion: 0,
          timeOut,
          sessionId,
          passwd,
          ...(oldForm ? {} : { readOnly: false }),
        }),
      );
    let session: GatewaySession;
    if (req.sessionId === 0n) {
      try {
        session = await this.ctx.sessions.create(req.timeOut, this.address);
      } catch (error) {
        this.close(`could not open a FaaSKeeper session: ${String(error)}`);
        return;
      }
      session.attach(this);
    } else {
      let res: Resume;
      try {
        res = await this.ctx.sessions.resume(req.sessionId, req.passwd, req.timeOut, this);
      } catch (error) {
        this.close(`could not resume the FaaSKeeper session: ${String(error)}`);
        return;
      }
      if ('expired' in res) {
        clearTimeout(this.connectTimer);
        this.socket.write(answer(0, 0n, new Uint8Array(16)));
        this.close(`told Expired: ${res.expired}`);
        return;
      }
      session = res.session;
      // Reply headers never go below what the client saw (through another gateway process, maybe).
      session.replyZxid(Number(req.lastZxidSeen));
    }
    this.session = session;
    if (this.phase === 'closed') {
      // The client left during the handshake: the session waits for it as for any disconnect.
      session.detach(this);
      return;
    }
    clearTimeout(this.connectTimer);
    this.phase = 'open';
    this.watchIdle(session);
    this.write(answer(session.timeoutMs, session.idLong, this.ctx.sessions.password(session.idLong)));
    this.ctx.log({
      level: 'info',
      event: req.sessionId === 0n ? 'session-opened' : 'session-resumed',
      remote: this.remote,
      session: hexId(session.id),
      message: `timeout ${session.timeoutMs} ms${oldForm ? ', old handshake form' : ''}`,
    });
  }

  private request(body: Uint8Array): void {
    const session = this.session;
    if (this.phase !== 'open' || session === undefined) return;
    const r = new JuteReader(body);
    let header: { xid: number; type: number };
    try {
      header = RequestHeader.read(r);
    } catch (error) {
      this.close(`truncated request header: ${(error as JuteError).message}`);
      return;
    }
    const slot: ReplySlot = { xid: header.xid, res: undefined };
    this.replies.push(slot);
    if (header.type === OpCode.ping) {
      slot.res = PING_REPLY;
      this.flushReplies();
      return;
    }
    this.issuing = slot;
    try {
      dispatch(this.opContext(session), header.type, r, (res) => {
        slot.res = res;
        this.flushReplies();
      });
    } finally {
      this.issuing = undefined;
    }
  }

  /** What operations see of this connection; made once, at the first request. */
  private opContext(session: GatewaySession): OpContext {
    if (this.opCtx === undefined || this.opCtx.session !== session)
      this.opCtx = {
        session,
        address: this.address,
        authIds: this.authIds,
        notify: (type, path) => this.notify(type, path),
        afterReply: (step) => {
          const slot = this.issuing;
          if (slot === undefined) return false;
          if (slot.afterReply === undefined) slot.afterReply = [step];
          else slot.afterReply.push(step);
          return true;
        },
      };
    return this.opCtx;
  }

  /** Writes the answered replies at the head of the order; stops at the first unanswered one. */
  private flushReplies(): void {
    const session = this.session;
    while (this.replies.length > 0) {
      const slot = this.replies[0]!;
      if (slot.afterWritten !== undefined) {
        this.replies.shift();
        slot.afterWritten();
        continue;
      }
      const res = slot.res;
      if (res === undefined) return;
      this.replies.shift();
      this.inFlight--;
      if (this.paused && this.inFlight < MAX_IN_FLIGHT / 2) {
        this.paused = false;
        this.socket.resume();
      }
      if (session === undefined) continue;
      this.write(
        res.frame !== undefined && res.err === Err.OK
          ? writeReplyHeader(res.frame, slot.xid, session.replyZxid(), res.err)
          : replyFrame(slot.xid, session.replyZxid(), res.err, res.err === Err.OK ? res.body : undefined),
        this.replies.length === 0,
      );
      if (slot.afterReply !== undefined) for (const step of slot.afterReply) step();
      if (res.close !== undefined) this.close(res.close);
    }
  }
}
