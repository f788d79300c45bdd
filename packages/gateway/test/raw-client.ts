/**
 * A minimal ZooKeeper client on a raw socket, written with the gateway's jute encoder: for what
 * node-zookeeper-client cannot send (create2, TTL, addWatch, setWatches2, ...) and for bad input.
 */
import { type Socket, connect as tcpConnect } from 'node:net';
import { OpCode } from '../src/codes.js';
import type { Codec } from '../src/jute/codec.js';
import { JuteReader, JuteWriter } from '../src/jute/io.js';
import {
  ConnectRequest,
  ConnectResponse,
  CreateRequest,
  PathWatchRequest,
  ReplyHeader,
  RequestHeader,
  WatcherEvent,
} from '../src/jute/records.js';

export interface Reply {
  xid: number;
  zxid: bigint;
  err: number;
  r: JuteReader;
}

/** Opens a TCP connection; resolves once connected. */
export function openSocket(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = tcpConnect(port, '127.0.0.1', () => resolve(s));
    s.once('error', reject);
  });
}

/** Resolves when the socket is closed by the other end (or errors). */
export function closedBy(socket: Socket, ms = 10_000): Promise<void> {
  return new Promise((resolve, reject) => {
    if (socket.destroyed || socket.readableEnded) return resolve();
    const timer = setTimeout(() => reject(new Error('the gateway did not close the connection')), ms);
    const done = () => {
      clearTimeout(timer);
      resolve();
    };
    socket.once('close', done);
    socket.once('end', done);
    socket.resume();
  });
}

export class RawClient {
  readonly notifications: { type: number; state: number; path: string }[] = [];
  private buf = Buffer.alloc(0);
  private frames: Uint8Array[] = [];
  private waiters: (() => void)[] = [];
  private nextXid = 1;
  /** Frames received so far (the handshake answer included). */
  framesReceived = 0;
  connect!: ConnectResponse;

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buf = Buffer.concat([this.buf, chunk]);
      while (this.buf.length >= 4 && this.buf.length >= 4 + this.buf.readInt32BE(0)) {
        const len = this.buf.readInt32BE(0);
        this.frames.push(new Uint8Array(this.buf.subarray(4, 4 + len)));
        this.framesReceived++;
        this.buf = this.buf.subarray(4 + len);
      }
      this.wake();
    });
    socket.on('close', () => this.wake());
    socket.on('error', () => this.wake());
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Connects and does the handshake (new form unless `readOnly` is explicitly undefined by `oldForm`). */
  static async open(port: number, req: Partial<ConnectRequest> = {}, oldForm = false): Promise<RawClient> {
    const c = new RawClient(await openSocket(port));
    const w = new JuteWriter();
    const { readOnly, ...rest } = req;
    ConnectRequest.write(w, {
      protocolVersion: 0,
      lastZxidSeen: 0n,
      timeOut: 10_000,
      sessionId: 0n,
      passwd: new Uint8Array(16),
      ...rest,
      ...(oldForm ? {} : { readOnly: readOnly ?? false }),
    });
    c.socket.write(w.frame());
    c.connect = ConnectResponse.read(new JuteReader(await c.frame()));
    return c;
  }

  /** The next frame from the gateway. */
  async frame(ms = 10_000): Promise<Uint8Array> {
    const deadline = Date.now() + ms;
    while (this.frames.length === 0) {
      if (this.socket.destroyed) throw new Error('connection closed');
      if (Date.now() > deadline) throw new Error('no frame from the gateway');
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 50);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return this.frames.shift()!;
  }

  /** Sends one request frame without waiting; returns its xid. */
  send<T>(type: number, codec?: Codec<T>, value?: T, xid = this.nextXid++): number {
    const w = new JuteWriter();
    RequestHeader.write(w, { xid, type });
    if (codec !== undefined) codec.write(w, value as T);
    this.socket.write(w.frame());
    return xid;
  }

  /** The next reply that is not a notification (notifications are collected). */
  async reply(ms = 10_000): Promise<Reply> {
    for (;;) {
      const r = new JuteReader(await this.frame(ms));
      const h = ReplyHeader.read(r);
      if (h.xid === -1) {
        this.notifications.push(WatcherEvent.read(r));
        continue;
      }
      return { ...h, r };
    }
  }

  /** Sends a request and reads its reply, checking the xid. */
  async call<T>(type: number, codec?: Codec<T>, value?: T): Promise<Reply> {
    const xid = this.send(type, codec, value);
    const rep = await this.reply();
    if (rep.xid !== xid) throw new Error(`reply xid ${rep.xid}, expected ${xid}`);
    return rep;
  }

  /** Waits until a notification for `path` arrives; returns it. */
  async notification(path: string, ms = 10_000): Promise<{ type: number; path: string }> {
    const deadline = Date.now() + ms;
    for (;;) {
      const i = this.notifications.findIndex((n) => n.path === path);
      if (i >= 0) return this.notifications.splice(i, 1)[0]!;
      if (Date.now() > deadline) throw new Error(`no notification for ${path}`);
      const r = new JuteReader(await this.frame(Math.max(1, deadline - Date.now())));
      const h = ReplyHeader.read(r);
      if (h.xid !== -1) throw new Error(`unexpected reply xid ${h.xid} while waiting for a notification`);
      this.notifications.push(WatcherEvent.read(r));
    }
  }

  close(): void {
    this.socket.destroy();
  }
}

const OPEN_ACL = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];

/** UTF-8 bytes of `s`. */
export const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);

/** A CreateRequest with an open ACL; data as bytes or a string. */
export const createReq = (path: string, flags = 0, data: Uint8Array | string = new Uint8Array(0)) => ({
  path,
  data: typeof data === 'string' ? bytes(data) : data,
  acl: OPEN_ACL,
  flags,
});

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Polls `check` until it holds; throws naming `what` after `ms`. For a state the gateway reaches
 * asynchronously after the step that caused it (a closed socket noticed, a session's ephemerals
 * gone), which a fixed sleep would only guess the time of.
 */
export async function waitUntil(
  check: () => boolean | Promise<boolean>,
  what: string,
  ms = 10_000,
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(20);
  }
}

/** Checks that the session of `c` still works: a write and a read. */
export async function stillServes(c: RawClient, tag: string): Promise<void> {
  const created = await c.call(OpCode.create, CreateRequest, createReq(`/alive-${tag}`));
  if (created.err !== 0) throw new Error(`create /alive-${tag} failed with ${created.err}`);
  const read = await c.call(OpCode.exists, PathWatchRequest, { path: `/alive-${tag}`, watch: false });
  if (read.err !== 0) throw new Error(`exists /alive-${tag} failed with ${read.err}`);
}
