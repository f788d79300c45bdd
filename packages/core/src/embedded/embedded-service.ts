import { randomBytes } from 'node:crypto';
import { bootstrap } from '../deployment/bootstrap.js';
import { ClientPool } from '../deployment/client-pool.js';
import type { Deployment, DeploymentOptions } from '../deployment/deployment.js';
import { createFunctions } from '../functions/create-functions.js';
import { MemoryChannel } from '../memory/memory-channel.js';
import { MemoryLeaseRenewer } from '../memory/memory-lease.js';
import { MemoryQueue } from '../memory/memory-queue.js';
import { MemorySystemStore } from '../memory/memory-system-store.js';
import { MemoryUserStore } from '../memory/memory-user-store.js';
import type { MemoryValues } from '../memory/values.js';
import { FaaSKeeperError } from '../model/errors.js';
import type { Channel } from '../ports/channel.js';
import { type Clock, systemClock } from '../ports/clock.js';
import { errorFields, jsonLogger } from '../ports/logger.js';
import type { Queue } from '../ports/queue.js';
import type { Binding, Runtime } from '../ports/runtime.js';
import type { LeaseRenewer } from '../ports/session-lease.js';
import type { SystemStore } from '../ports/system-store.js';
import type { UserStore } from '../ports/user-store.js';
import { MemoryRuntime } from '../runtime/memory-runtime.js';
import { QueueLeaseRenewer } from '../session/lease-inbox.js';

/** The ports an embedded deployment runs on. */
export interface EmbeddedPorts {
  systemStore: SystemStore;
  userStore: UserStore;
  writerQueue: Queue;
  distributorQueue: Queue;
  channel: Channel;
  runtime: Runtime;
}

/** Options of {@link createEmbeddedService}; batch sizes default to 100. */
export interface EmbeddedServiceOptions extends DeploymentOptions {
  /**
   * Per-function clocks (fault injection: clocks of different functions differ by up to a second).
   * Each defaults to `clock`; clients always use `clock`.
   */
  functionClocks?: { writer?: Clock; heartbeat?: Clock };
  /**
   * How clients renew their leases: `store`, a conditional write to the lease item (as on AWS,
   * the default); `queue`, a message the heartbeat folds (as on GCP).
   */
  leaseRenewals?: 'store' | 'queue';
  /**
   * The deployment's super digest, `super:<base64 sha1("super:password")>` (make one with
   * `generateDigest('super:password')`): `addAuth('digest', 'super:password')` then grants every
   * permission on every node. Absent: no super user. ZooKeeper's
   * `-Dzookeeper.DigestAuthenticationProvider.superDigest`.
   */
  superDigest?: string;
  /**
   * The key a gateway serving this deployment attests its clients' addresses with (the gateway's
   * `gatewayKey` option must be the same), so that `ip` ACL entries match them. Absent: ip
   * entries match nobody.
   */
  gatewayKey?: string;
  /**
   * The channel secret the writer and distributor seal channel messages with (session/auth.ts).
   * Default: drawn at random for this deployment; `false`: channels not sealed.
   */
  channelSecret?: string | false;
  /**
   * How the writer commits a batch to the memory system store.
   * - `transaction` (the default): the batch's item writes and the writer state in one
   *   transaction, the state stored as it is. A memory transaction costs no more than single
   *   writes, so a log would only add work (as on Datastore).
   * - `redo-log`: as on DynamoDB, one conditional put of the writer state carrying the batch's
   *   writes as its log (deflated), then one write per item, and a replay of what a crash left
   *   unapplied (`writer/redo-log.ts`). The crash and fault suites run this one, so that the log's
   *   replay is tested in memory too.
   */
  commit?: 'transaction' | 'redo-log';
  /**
   * How the memory stores keep values ({@link MemoryValues}); default `copied`, as a cloud store
   * would. `shared` copies nothing, for a deployment whose clients never change what they read
   * (a gateway's); `frozen` makes any change of a value put or got throw (tests).
   */
  values?: MemoryValues;
}

/** A FaaSKeeper deployment in one process: the real writer, distributor and heartbeat on in-memory ports. */
export interface EmbeddedService extends Deployment {
  readonly ports: EmbeddedPorts;
}

/**
 * Starts an embedded deployment. With a ManualClock, session expiry and TTLs move only with
 * `clock.advance()`.
 */
export function createEmbeddedService(options: EmbeddedServiceOptions = {}): EmbeddedService {
  const clock = options.clock ?? systemClock;
  const wrap = options.wrap ?? {};
  const values = { values: options.values ?? 'copied' };
  const memoryStore = new MemorySystemStore(
    options.commit === 'redo-log'
      ? { transactionsCostMore: true, writesBilledBySize: true }
      : { transactionsCostMore: false, writesBilledBySize: false },
    values,
  );
  const systemStore = (wrap.systemStore ?? ((s) => s))(memoryStore);
  const userStore = (wrap.userStore ?? ((s) => s))(new MemoryUserStore(values));
  const bigMessages = { maxMessageBytes: 4 * 1024 * 1024, maxBatch: 100 };
  // Clients renew their leases on the store itself, as on DynamoDB (not through a test's wrapper),
  // or through a queue the heartbeat drains, as on GCP.
  const leaseQueue =
    options.leaseRenewals === 'queue'
      ? new MemoryQueue('leases', { clock, capabilities: bigMessages })
      : undefined;
  const lease: LeaseRenewer =
    leaseQueue === undefined ? new MemoryLeaseRenewer(memoryStore) : new QueueLeaseRenewer(leaseQueue);
  const writerQueue = (wrap.writerQueue ?? ((q) => q))(
    new MemoryQueue('writer', { clock, capabilities: bigMessages }),
  );
  const distributorQueue = (wrap.distributorQueue ?? ((q) => q))(
    new MemoryQueue('distributor', { clock, capabilities: bigMessages }),
  );
  const channel = (wrap.channel ?? ((c) => c))(new MemoryChannel({ maxMessageBytes: 4 * 1024 * 1024 }));
  // A test deployment: only what is lost (a dropped batch, a failed poll) is printed by default.
  const logger = options.logger ?? jsonLogger({ level: 'error' });
  const runtime = new MemoryRuntime({
    clock,
    logger,
    ...(options.onFunctionError === undefined ? {} : { onError: options.onFunctionError }),
  });
  const functions = createFunctions(
    {
      systemStore,
      userStore,
      writerQueue,
      distributorQueue,
      channel,
      ...(leaseQueue === undefined ? {} : { leaseQueue }),
    },
    {
      clock,
      logger,
      ...(options.clockSkewMs === undefined ? {} : { clockSkewMs: options.clockSkewMs }),
      ...(options.functionClocks === undefined ? {} : { functionClocks: options.functionClocks }),
      ...(options.superDigest === undefined ? {} : { superDigest: options.superDigest }),
      ...(options.gatewayKey === undefined ? {} : { gatewayKey: options.gatewayKey }),
      ...(options.channelSecret === false
        ? {}
        : { channelSecret: options.channelSecret ?? randomBytes(32).toString('base64') }),
      ...(options.wrapHandler === undefined ? {} : { wrapHandler: options.wrapHandler }),
      ...(options.distribution === undefined ? {} : { distribution: options.distribution }),
      ...(options.betweenDistributorWrites === undefined
        ? {}
        : { betweenDistributorWrites: options.betweenDistributorWrites }),
    },
  );
  const pool = new ClientPool('embedded deployment', logger);
  let closed = false;
  const bindings: Binding[] = [];
  // The functions start once the root exists; connect() waits for that.
  const ready = bootstrap(systemStore, userStore).then(
    () => {
      if (closed) return;
      bindings.push(
        runtime.bindQueue(writerQueue, functions.writer, {
          functionName: 'writer',
          batchSize: options.writerBatchSize ?? 100,
          timeoutMs: 30_000,
        }),
        runtime.bindQueue(distributorQueue, functions.distributor, {
          functionName: 'distributor',
          batchSize: options.distributorBatchSize ?? 100,
          timeoutMs: 30_000,
        }),
        runtime.schedule('heartbeat', options.heartbeatIntervalMs ?? 1000, functions.heartbeat),
      );
    },
    (error: unknown) => {
      logger.error('start-up failed: bootstrapping the deployment', errorFields(error));
      throw error;
    },
  );

  return {
    clock,
    ports: { systemStore, userStore, writerQueue, distributorQueue, channel, runtime },
    async connect(clientOptions = {}) {
      if (closed)
        throw new FaaSKeeperError('CONNECTIONLOSS', 'CONNECTIONLOSS: the embedded deployment is closed');
      await ready;
      const own =
        options.wrapClientChannel === undefined
          ? channel
          : options.wrapClientChannel(
              channel,
              clientOptions.sessionId === undefined ? {} : { sessionId: clientOptions.sessionId },
            );
      return pool.connect(
        { writerQueue, userStore, channel: own, lease },
        {
          clock,
          sessionTimeoutMs: options.sessionTimeoutMs ?? 10_000,
          operationTimeoutMs: options.operationTimeoutMs ?? 30_000,
          ...clientOptions,
        },
      );
    },
    partition: (client) => pool.partition(client),
    heal: (client) => pool.heal(client),
    ready,
    heartbeat: async () => {
      await ready;
      await functions.heartbeat({ deadline: clock.now() + 10_000, functionName: 'heartbeat' });
    },
    async close() {
      if (closed) return;
      closed = true;
      await ready;
      await pool.close(1000);
      await Promise.all(bindings.map((b) => b.stop()));
      await runtime.close();
    },
  };
}
