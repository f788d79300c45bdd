import type { FaaSKeeperClient, LeaseGroup } from '@faaskeeper/core';
import { type GatewayLog, hexId } from './log.js';
import { WatchRegistry } from './watches.js';

/** What a session needs from the connection that serves it. */
export interface SessionConnection {
  /** Sends a watch notification (xid -1). */
  notify(type: number, path: string): void;
  /** Closes the connection, logging `reason`. */
  close(reason: string): void;
  /** Closes the connection, logging `reason`, once the requests read so far are answered. */
  closeAfterReplies(reason: string): void;
}

/**
 * One ZooKeeper session: one core FaaSKeeper session (its client), the TCP connection serving it
 * (none while the client is away), its watches, the ephemerals it created and the highest zxid
 * its client has been told.
 */
export class GatewaySession {
  readonly id: number;
  readonly idLong: bigint;
  readonly watches: WatchRegistry;
  /** Ephemeral nodes this session created (getEphemerals checks each is still there and ours). */
  readonly ephemerals = new Set<string>();
  private zxid = 0;
  private connection: SessionConnection | undefined;
  private expiry: NodeJS.Timeout | undefined;
  private over = false;
  /** The client went away (detach) and has not come back: the group lease holds the session. */
  private away = false;

  /**
   * @param group - the gateway's group lease, when the deployment offers one: the session is in it
   *   while its client is connected, and held (renewed by nobody) while its client is away
   * @param key - the session's key (its lease's membership of the group is sealed with it)
   */
  constructor(
    readonly client: FaaSKeeperClient,
    readonly timeoutMs: number,
    /** Told once the session has ended and its FaaSKeeper session's close (if any) has settled. */
    private readonly onEnd: (session: GatewaySession) => void,
    private readonly log: GatewayLog,
    private readonly group?: LeaseGroup,
    private readonly key?: Uint8Array,
  ) {
    this.id = client.sessionNumber;
    this.idLong = BigInt(client.sessionNumber);
    this.watches = new WatchRegistry(client, (type, path) => this.connection?.notify(type, path));
    client.on('state', (state) => {
      // The FaaSKeeper session is gone: close the connection, so that the client reconnects
      // and is told Expired.
      // The core has failed the requests still pending with SESSIONEXPIRED: those answers go out
      // before the connection closes, so that the client learns each request's fate.
      if (state === 'EXPIRED') void this.finish('the FaaSKeeper session expired', true);
    });
    client.on('error', (error) =>
      this.log({ level: 'warn', event: 'error', session: hexId(this.id), message: String(error) }),
    );
  }

  /** True once the session is closed or expired. */
  get ended(): boolean {
    return this.over;
  }

  /** The connection serving the session, if any. */
  get conn(): SessionConnection | undefined {
    return this.connection;
  }

  /** The zxid for the next reply header: the highest seen, never lower than an earlier one. */
  replyZxid(seen = 0): number {
    this.zxid = Math.max(this.zxid, seen, this.client.lastZxid);
    return this.zxid;
  }

  /**
   * Puts the session in the gateway's group lease (its own renewals stop). Failures are logged: the
   * session then renews its own lease, as without a group.
   */
  async joinGroup(): Promise<void> {
    if (this.group === undefined || this.key === undefined || this.over) return;
    try {
      const found = await this.group.cover(this.id, this.timeoutMs, this.key);
      // No lease: the session has ended; its client is told on the channel, which ends this one.
      if (found === 'absent')
        this.log({ level: 'info', event: 'lease', session: hexId(this.id), message: 'no lease to join' });
    } catch (error) {
      this.log({
        level: 'warn',
        event: 'error',
        session: hexId(this.id),
        message: `joining the gateway's lease failed (the session renews its own): ${String(error)}`,
      });
    }
  }

  /** Serves the session on `conn`; an older connection of the session is dropped, as ZooKeeper does. */
  attach(conn: SessionConnection): void {
    if (this.expiry !== undefined) clearTimeout(this.expiry);
    this.expiry = undefined;
    if (this.away) {
      this.away = false;
      void this.joinGroup();
    }
    const old = this.connection;
    this.connection = conn;
    if (old !== undefined && old !== conn) {
      this.watches.clear();
      old.close('the session was resumed on another connection');
    }
  }

  /** Drops a connection that closed, at once (ZooKeeper's watches go with it); the client has the
   * session timeout to come back before the session is closed. */
  detach(conn: SessionConnection): void {
    if (this.connection !== conn || this.over) return;
    this.connection = undefined;
    this.watches.clear();
    this.away = true;
    // Nothing renews the session while its client is away: its lease stands at this moment, so it
    // expires within its timeout of it even if this process dies (ZooKeeper's expiry).
    this.group?.hold(this.id).catch((error: unknown) =>
      this.log({
        level: 'warn',
        event: 'error',
        session: hexId(this.id),
        message: `taking the session out of the gateway's lease failed: ${String(error)}`,
      }),
    );
    this.expiry = setTimeout(() => {
      this.expiry = undefined;
      void this.close('the client did not come back within the session timeout');
    }, this.timeoutMs);
    this.expiry.unref();
  }

  /** Closes the FaaSKeeper session (its ephemerals go) and the connection, unless `keep` is it. */
  async close(reason: string, keep?: SessionConnection): Promise<void> {
    if (this.over) return;
    if (keep !== undefined && this.connection === keep) this.connection = undefined;
    await this.finish(reason, false, () =>
      this.client.close().catch((error: unknown) =>
        this.log({
          level: 'warn',
          event: 'error',
          session: hexId(this.id),
          message: `close: ${String(error)}`,
        }),
      ),
    );
  }

  /**
   * Ends the session here: its connection closes (at once, or once the requests read so far are
   * answered), and `closeClient`, when given, closes its FaaSKeeper session. Settles when that has.
   */
  private finish(reason: string, afterReplies = false, closeClient?: () => Promise<void>): Promise<void> {
    if (this.over) return Promise.resolve();
    this.over = true;
    if (this.expiry !== undefined) clearTimeout(this.expiry);
    this.expiry = undefined;
    this.log({ level: 'info', event: 'session-ended', session: hexId(this.id), reason });
    this.group?.release(this.id);
    const conn = this.connection;
    this.connection = undefined;
    if (afterReplies) conn?.closeAfterReplies(reason);
    else conn?.close(reason);
    const closed = closeClient?.() ?? Promise.resolve();
    void closed.then(() => this.onEnd(this));
    return closed;
  }
}
