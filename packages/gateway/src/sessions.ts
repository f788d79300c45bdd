import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { isIPv4 } from 'node:net';
import {
  attestAddress,
  type ClientOptions,
  derivedSessionKey,
  type FaaSKeeperClient,
  FaaSKeeperError,
  LeaseGroup,
  type LeaseRenewer,
  randomSessionId,
} from '@faaskeeper/core';
import type { GatewayDeployment } from './gateway.js';
import { type GatewayLog, hexId } from './log.js';
import { GatewaySession, type SessionConnection } from './session.js';

/** What the answer to a resume is. */
export type Resume = { session: GatewaySession } | { expired: string };

/**
 * The gateway's sessions by id. A session's password is HMAC-SHA256(secret, sessionId) cut to
 * 16 bytes, so any gateway holding the secret can check it without shared state: a session this
 * process does not serve (opened through another gateway process) is resumed from the deployment
 * once its password checks, its FaaSKeeper client becoming the session's new incarnation (the
 * other process's client is refused from then on, and closes without ending the session).
 */
export class SessionTable {
  /**
   * Sessions by id: open ones, and ended ones until their FaaSKeeper close has settled. A client of
   * an ended one is told Expired here: a resume sent to the deployment before the close is applied
   * could be applied first (through a cloud queue, two sends need not arrive in the order made).
   */
  private readonly sessions = new Map<number, GatewaySession>();
  /** Sessions being taken over from the deployment, by id. */
  private readonly adopting = new Map<number, Promise<FaaSKeeperClient>>();
  /**
   * The lease all this process's sessions share (made with the first session, when the
   * deployment's lease store offers groups): one renewal per period for every connected session.
   */
  private group: LeaseGroup | undefined;

  constructor(
    private readonly deployment: GatewayDeployment,
    private readonly secret: Uint8Array,
    private readonly bounds: { min: number; max: number },
    private readonly log: GatewayLog,
    /** The deployment's gateway key: when set, each new session gets its client's ip identity. */
    private readonly gatewayKey?: string,
    /** Whether sessions share one group lease (where the deployment offers it). */
    private readonly shareLease = true,
  ) {}

  /** The group lease, for figures and tests (undefined until a session made it, or when not offered). */
  get lease(): LeaseGroup | undefined {
    return this.group;
  }

  /** The client option that gives a session the shared lease's renewer (see {@link SessionTable.group}). */
  private leaseOption(): Pick<ClientOptions, 'lease'> {
    if (!this.shareLease) return {};
    return {
      lease: (own: LeaseRenewer) => {
        if (own.groups === undefined) return own;
        this.group ??= new LeaseGroup(own.groups, {
          ...(this.deployment.clock === undefined ? {} : { clock: this.deployment.clock }),
          onError: (error) =>
            this.log({
              level: 'warn',
              event: 'error',
              message: `renewing the gateway's lease failed (retried): ${String(error)}`,
            }),
        });
        return this.group.renewer(own);
      },
    };
  }

  /** A session of `client` in this table, in the shared lease. */
  private async admit(client: FaaSKeeperClient, timeoutMs: number): Promise<GatewaySession> {
    const session = new GatewaySession(
      client,
      timeoutMs,
      (s) => {
        if (this.sessions.get(s.id) === s) this.sessions.delete(s.id);
      },
      this.log,
      this.group,
      derivedSessionKey(this.secret, client.sessionNumber),
    );
    this.sessions.set(session.id, session);
    await session.joinGroup();
    return session;
  }

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
    // The session key is derived from the secret, as the password is: any process holding the
    // secret can resume the session (and sign its requests).
    const id = randomSessionId();
    const client = await this.deployment.connect({
      sessionTimeoutMs: timeoutMs,
      sessionId: id,
      sessionKey: derivedSessionKey(this.secret, id),
      ...this.leaseOption(),
    });
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
    return this.admit(client, timeoutMs);
  }

  /**
   * Resumes session `id` on `conn`. A live connection of that session is dropped first, even when
   * the password turns out wrong (ZooKeeper does the same; the rightful client reconnects). A
   * session this process does not serve is taken over from the deployment (another gateway process
   * opened it); one the deployment no longer has is answered Expired.
   */
  async resume(
    id: bigint,
    passwd: Uint8Array,
    requestedTimeoutMs: number,
    conn: SessionConnection,
  ): Promise<Resume> {
    const number = Number(id);
    const session = Number.isSafeInteger(number) && number > 0 ? this.sessions.get(number) : undefined;
    if (session !== undefined && !session.ended) {
      const old = session.conn;
      if (old !== undefined && old !== conn) {
        session.detach(old);
        old.close('another connection asked to resume the session');
      }
    }
    if (!this.passwordMatches(id, passwd)) return { expired: `wrong password for session ${hexId(id)}` };
    if (session !== undefined) {
      if (session.ended) return { expired: `session ${hexId(id)} has ended` };
      session.attach(conn);
      return { session };
    }
    if (!Number.isSafeInteger(number) || number <= 0)
      return { expired: `unknown or expired session ${hexId(id)}` };
    return this.adopt(number, requestedTimeoutMs, conn);
  }

  private passwordMatches(id: bigint, passwd: Uint8Array): boolean {
    const expected = this.password(id);
    return passwd.byteLength === expected.byteLength && timingSafeEqual(passwd, expected);
  }

  /** Takes over session `id` from the deployment (opened through another gateway process). */
  private async adopt(id: number, requestedTimeoutMs: number, conn: SessionConnection): Promise<Resume> {
    // Two connections racing to resume one session here: the second waits for the first's answer.
    const pending = this.adopting.get(id);
    if (pending !== undefined) {
      // The first takeover's failure is its own connection's to report (it answers Expired); this
      // one only needs to know it is over, and reads the outcome from the session table below.
      await pending.catch(() => undefined);
      const now = this.sessions.get(id);
      if (now === undefined || now.ended)
        return { expired: `unknown or expired session ${hexId(BigInt(id))}` };
      const old = now.conn;
      if (old !== undefined && old !== conn) {
        now.detach(old);
        old.close('another connection asked to resume the session');
      }
      now.attach(conn);
      return { session: now };
    }
    const adoption = this.deployment.connect({
      sessionId: id,
      sessionKey: derivedSessionKey(this.secret, id),
      resume: true,
      sessionTimeoutMs: this.negotiate(requestedTimeoutMs),
      ...this.leaseOption(),
    });
    this.adopting.set(id, adoption);
    let client: FaaSKeeperClient;
    try {
      client = await adoption;
    } catch (error) {
      if (error instanceof FaaSKeeperError && error.code === 'SESSIONEXPIRED')
        return { expired: `session ${hexId(BigInt(id))} has ended` };
      throw error;
    } finally {
      this.adopting.delete(id);
    }
    const session = await this.admit(client, client.sessionTimeoutMs);
    session.attach(conn);
    return { session };
  }

  /** Sessions open now. */
  all(): GatewaySession[] {
    return [...this.sessions.values()].filter((s) => !s.ended);
  }

  /** Closes every session (their ephemerals go). */
  async closeAll(reason: string): Promise<void> {
    await Promise.all(this.all().map((s) => s.close(reason)));
    this.group?.close();
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
