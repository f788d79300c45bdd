import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { isIPv4 } from 'node:net';
import { attestAddress } from '@faaskeeper/core';
import type { GatewayDeployment } from './gateway.js';
import { type GatewayLog, hexId } from './log.js';
import { GatewaySession, type SessionConnection } from './session.js';

/** What the answer to a resume is. */
export type Resume = { session: GatewaySession } | { expired: string };

/**
 * The gateway's sessions by id. A session's password is HMAC-SHA256(secret, sessionId) cut to
 * 16 bytes, so any gateway holding the secret can check it without shared state.
 *
 * TODO(core): resuming a session that another gateway process opened needs the core to attach a
 * client to an existing FaaSKeeper session (its channel and seq); until then such a resume, which
 * passes the password check, is answered Expired like an unknown session.
 */
export class SessionTable {
  private readonly sessions = new Map<number, GatewaySession>();

  constructor(
    private readonly deployment: GatewayDeployment,
    private readonly secret: Uint8Array,
    private readonly bounds: { min: number; max: number },
    private readonly log: GatewayLog,
    /** The deployment's gateway key: when set, each new session gets its client's ip identity. */
    private readonly gatewayKey?: string,
  ) {}

  /** The session's password. */
  password(id: bigint): Uint8Array {
    const b = Buffer.alloc(8);
    b.writeBigInt64BE(BigInt.asIntN(64, id));
    return new Uint8Array(createHmac('sha256', this.secret).update(b).digest().subarray(0, 16));
  }

  /** ZooKeeper's negotiation: the requested timeout clamped to [min, max]. */
  negotiate(requested: number): number {
    return Math.min(this.bounds.max, Math.max(this.bounds.min, requested));
  }

  /**
   * Opens a new session (a new FaaSKeeper session) for a client at `address`. With a gateway key,
   * the session is given the identity `ip:<address>` as ZooKeeper gives every connection, attested
   * to the writer with the key (the writer cannot see addresses itself).
   */
  async create(requestedTimeoutMs: number, address: string): Promise<GatewaySession> {
    const timeoutMs = this.negotiate(requestedTimeoutMs);
    const client = await this.deployment.connect({ sessionTimeoutMs: timeoutMs });
    if (this.gatewayKey !== undefined && isIPv4(address)) {
      try {
        await client.addAuth('ip', attestAddress(this.gatewayKey, client.sessionNumber, address));
      } catch (error) {
        // A key the deployment does not share: the session is closed; the client sees the handshake fail.
        this.log({
          level: 'error',
          event: 'error',
          session: hexId(client.sessionNumber),
          reason: `the deployment refused the attested client address (another gateway key?): ${String(error)}`,
        });
        throw error;
      }
    }
    const session = new GatewaySession(client, timeoutMs, (s) => this.sessions.delete(s.id), this.log);
    this.sessions.set(session.id, session);
    return session;
  }

  /**
   * Resumes session `id` on `conn`. A live connection of that session is dropped first, even when
   * the password turns out wrong (ZooKeeper does the same; the rightful client reconnects).
   */
  resume(id: bigint, passwd: Uint8Array, conn: SessionConnection): Resume {
    const session = Number.isSafeInteger(Number(id)) ? this.sessions.get(Number(id)) : undefined;
    if (session === undefined || session.ended) return { expired: `unknown or expired session ${hexId(id)}` };
    const old = session.conn;
    if (old !== undefined && old !== conn) {
      session.detach(old);
      old.close('another connection asked to resume the session');
    }
    const expected = this.password(id);
    if (passwd.byteLength !== expected.byteLength || !timingSafeEqual(passwd, expected))
      return { expired: `wrong password for session ${hexId(id)}` };
    session.attach(conn);
    return { session };
  }

  /** Sessions open now. */
  all(): GatewaySession[] {
    return [...this.sessions.values()];
  }

  /** Closes every session (their ephemerals go). */
  async closeAll(reason: string): Promise<void> {
    await Promise.all(this.all().map((s) => s.close(reason)));
  }
}

/** The key for session passwords: the given one, FAASKEEPER_GATEWAY_SECRET, or random. */
export function sessionSecret(given: Uint8Array | string | undefined, log: GatewayLog): Uint8Array {
  const secret = given ?? process.env.FAASKEEPER_GATEWAY_SECRET;
  if (secret === undefined || secret.length === 0) {
    log({
      level: 'warn',
      event: 'secret',
      message:
        'no secret given (startGateway({ secret }) or FAASKEEPER_GATEWAY_SECRET): a random one, so only this process can resume its sessions',
    });
    return new Uint8Array(randomBytes(32));
  }
  return typeof secret === 'string' ? new TextEncoder().encode(secret) : secret;
}
