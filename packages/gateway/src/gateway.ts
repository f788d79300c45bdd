import { randomBytes } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { type Clock, createEmbeddedService, type Deployment, type FaaSKeeperClient } from '@faaskeeper/core';
import { Connection, clientAddress, type GatewayContext } from './connection.js';
import { answerWord, type ServerFacts } from './four-letter.js';
import { type GatewayLog, type GatewayLogEntry, stderrLog } from './log.js';
import { countDescendants } from './ops.js';
import { SessionTable, sessionSecret } from './sessions.js';

/**
 * What the gateway needs of a deployment: sessions. Every core {@link Deployment} (embedded, local
 * AWS, local GCP) is one; so is anything that opens clients of a deployed one.
 */
export type GatewayDeployment = Pick<Deployment, 'connect'> & {
  /** Awaited before listening, when present. */
  readonly ready?: Promise<void>;
  /** The clock the deployment's clients take lease times from; default the process clock. */
  readonly clock?: Clock;
};

/** Options of {@link startGateway}; every one has ZooKeeper's default. */
export interface GatewayOptions {
  /** The deployment to serve; default a fresh embedded one, closed by `close()`. */
  deployment?: GatewayDeployment;
  /** Address to listen on; default '127.0.0.1'. */
  host?: string;
  /** Port; default 2181; 0 = any free port. */
  port?: number;
  /** Key of the session passwords; default FAASKEEPER_GATEWAY_SECRET, else random (per process). */
  secret?: Uint8Array | string;
  /** Session timeout bounds, ms; default 4000 and 40000 (tickTime 2000). */
  minSessionTimeoutMs?: number;
  maxSessionTimeoutMs?: number;
  /** Most connections from one IP address (maxClientCnxns); default 60; 0 = no limit. */
  maxClientCnxns?: number;
  /** Largest frame accepted (jute.maxbuffer); default 0xfffff. */
  maxBuffer?: number;
  /** How long a new connection has to complete its handshake, ms; default 10000. */
  connectTimeoutMs?: number;
  /** Most reply bytes queued for a client that does not read them before it is dropped; default 16 MiB. */
  maxQueuedBytes?: number;
  /** Log sink; default JSON lines to stderr. */
  log?: (line: GatewayLogEntry) => void;
  /**
   * The deployment's gateway key (its `gatewayKey`), with which the gateway attests each client's
   * address, so that ZooKeeper's `ip` ACL entries match. Default: a random key shared with the
   * embedded deployment the gateway creates; none for a given `deployment` (ip entries then match
   * nobody).
   */
  gatewayKey?: string;
  /**
   * Whether the sessions share one lease, renewed once per period for all of them, where the
   * deployment's lease store offers group leases (AWS, embedded); default true. False: every
   * session renews its own, as a separate client would.
   */
  shareLease?: boolean;
}

/** A running gateway. */
export interface Gateway {
  readonly host: string;
  readonly port: number;
  /** `host:port`, as ZooKeeper clients take it. */
  readonly connectString: string;
  /** Closes every session (ephemerals go), then the server (and a deployment it created). */
  close(): Promise<void>;
}

/** How the embedded deployment the gateway creates keeps values (see `startGateway`). */
const GATEWAY_VALUES = 'shared';

const VERSION = '3.9.0-faaskeeper-gateway-0.1.0, built on 1970-01-01 00:00 UTC';

/**
 * Starts a ZooKeeper protocol gateway: a TCP server speaking ZooKeeper's client protocol (3.4 to
 * 3.9 clients), each ZooKeeper session one FaaSKeeper session of `deployment`.
 */
/** How long the node count of the four-letter words is reused before the tree is walked again. */
const NODE_COUNT_TTL_MS = 60_000;

export async function startGateway(options: GatewayOptions = {}): Promise<Gateway> {
  const log: GatewayLog = options.log ?? stderrLog;
  const gatewayKey =
    options.gatewayKey ?? (options.deployment === undefined ? randomBytes(32).toString('base64') : undefined);
  // Its own embedded deployment's channel is memory in this process, read only by the gateway's
  // clients: sealing it (docs/guarantees.md "Security model") would hide nothing from anyone and
  // cost about 10 µs a reply, so it is off there. Requests are still signed. Its stores share values
  // rather than copy them in and out: the only callers are the core's functions and the gateway's
  // clients, which serialise what they read and change nothing (the gateway's suites pass with the
  // stores frozen, where any change throws).
  const owned =
    options.deployment === undefined
      ? createEmbeddedService({
          channelSecret: false,
          values: GATEWAY_VALUES,
          ...(gatewayKey === undefined ? {} : { gatewayKey }),
        })
      : undefined;
  const deployment: GatewayDeployment = options.deployment ?? owned!;
  await deployment.ready;
  const host = options.host ?? '127.0.0.1';
  const min = options.minSessionTimeoutMs ?? 4000;
  const max = options.maxSessionTimeoutMs ?? 40000;
  const maxClientCnxns = options.maxClientCnxns ?? 60;
  const sessions = new SessionTable(
    deployment,
    sessionSecret(options.secret, log),
    { min, max },
    log,
    gatewayKey,
    options.shareLease ?? true,
  );
  const connections = new Set<Connection>();
  let admin: Promise<FaaSKeeperClient> | undefined;
  // The node count of srvr/stat/mntr walks the tree (a read per node, billed on a cloud store), so a
  // monitor polling mntr costs at most one walk per NODE_COUNT_TTL_MS.
  let counted: { at: number; count: Promise<number> } | undefined;
  let port = 0;
  const facts = (): ServerFacts => {
    const all = sessions.all();
    return {
      version: VERSION,
      host,
      port,
      connections: [...connections].map((c) => ({
        remote: c.remote,
        queued: c.queued,
        received: c.stats.received,
        sent: c.stats.sent,
      })),
      received: ctx.stats.received,
      sent: ctx.stats.sent,
      outstanding: [...connections].reduce((n, c) => n + c.queued, 0),
      zxid: all.reduce((z, s) => Math.max(z, s.client.lastZxid), 0),
      nodeCount: () => {
        if (counted === undefined || Date.now() - counted.at > NODE_COUNT_TTL_MS) {
          // A session of the gateway's own, opened on first use, counts the nodes (root included).
          admin ??= deployment.connect({ sessionTimeoutMs: max });
          const count = admin.then(async (c) => 1 + (await countDescendants(c, '/')));
          counted = { at: Date.now(), count };
          // A failed walk is answered to the four-letter word that asked, and not kept for the next.
          count.catch(() => {
            if (counted?.count === count) counted = undefined;
          });
        }
        return counted.count;
      },
      watchCount: all.reduce((n, s) => n + s.watches.size, 0),
      ephemeralsCount: all.reduce((n, s) => n + s.ephemerals.size, 0),
      minSessionTimeoutMs: min,
      maxSessionTimeoutMs: max,
      maxClientCnxns,
    };
  };
  const ctx: GatewayContext = {
    sessions,
    maxBuffer: options.maxBuffer ?? 0xfffff,
    connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
    maxQueuedBytes: options.maxQueuedBytes ?? 16 * 1024 * 1024,
    log,
    stats: { received: 0, sent: 0 },
    connections,
    fourLetter: (word) => answerWord(word, facts()),
  };
  const perAddress = new Map<string, number>();
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    const address = clientAddress(socket);
    const count = perAddress.get(address) ?? 0;
    if (maxClientCnxns > 0 && count >= maxClientCnxns) {
      log({
        level: 'warn',
        event: 'refused',
        remote: `${address}:${socket.remotePort ?? 0}`,
        reason: `too many connections from ${address} - max is ${maxClientCnxns}`,
      });
      socket.destroy();
      return;
    }
    perAddress.set(address, count + 1);
    sockets.add(socket);
    socket.once('close', () => {
      sockets.delete(socket);
      const n = (perAddress.get(address) ?? 1) - 1;
      if (n <= 0) perAddress.delete(address);
      else perAddress.set(address, n);
    });
    const conn = new Connection(socket, ctx);
    connections.add(conn);
    log({ level: 'info', event: 'connected', remote: conn.remote });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 2181, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (error) => log({ level: 'error', event: 'error', message: String(error) }));
  const address = server.address();
  port = typeof address === 'object' && address !== null ? address.port : (options.port ?? 2181);
  log({ level: 'info', event: 'listening', message: `${host}:${port}` });
  let closing: Promise<void> | undefined;
  return {
    host,
    port,
    connectString: `${host}:${port}`,
    close: () => {
      closing ??= (async () => {
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        await sessions.closeAll('the gateway is shutting down');
        for (const c of [...connections]) c.close('the gateway is shutting down');
        for (const s of sockets) s.destroy();
        // A failed open of the admin session was the answer to the four-letter word that asked for it.
        if (admin !== undefined) await (await admin.catch(() => undefined))?.close();
        await stopped;
        await owned?.close();
        log({ level: 'info', event: 'stopped', message: `${host}:${port}` });
      })();
      return closing;
    },
  };
}
