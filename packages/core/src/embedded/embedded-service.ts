import type { ClientOptions, FaaSKeeperClient } from '../client/client.js';
import { createDistributor } from '../distributor/distributor.js';
import { MemoryChannel } from '../memory/memory-channel.js';
import { MemoryQueue } from '../memory/memory-queue.js';
import { MemoryRuntime } from '../memory/memory-runtime.js';
import { MemorySystemStore } from '../memory/memory-system-store.js';
import { MemoryUserStore } from '../memory/memory-user-store.js';
import { FaaSKeeperError } from '../model/errors.js';
import type { Channel } from '../ports/channel.js';
import { type Clock, systemClock } from '../ports/clock.js';
import type { Queue } from '../ports/queue.js';
import type { BatchHandler, Binding, Runtime } from '../ports/runtime.js';
import type { SystemStore } from '../ports/system-store.js';
import type { UserStore } from '../ports/user-store.js';
import { createHeartbeat } from '../session/heartbeat.js';
import { createWriter } from '../writer/writer.js';
import { bootstrap } from './bootstrap.js';
import { ClientPool } from './client-pool.js';

/** The ports an embedded deployment runs on. */
export interface EmbeddedPorts {
  systemStore: SystemStore;
  userStore: UserStore;
  writerQueue: Queue;
  distributorQueue: Queue;
  channel: Channel;
  runtime: Runtime;
}

/** Replaces a port with a wrapper around it (fault injection, metering, tracing). */
export interface PortWrappers {
  systemStore?: (store: SystemStore) => SystemStore;
  userStore?: (store: UserStore) => UserStore;
  writerQueue?: (queue: Queue) => Queue;
  distributorQueue?: (queue: Queue) => Queue;
  channel?: (channel: Channel) => Channel;
}

/**
 * What every deployment a test can run on takes (the embedded one here, the local AWS and GCP
 * deployments on emulators), with the same meaning everywhere.
 */
export interface DeploymentOptions {
  /** Injected clock: a ManualClock drives session expiry and TTLs without sleeping. */
  clock?: Clock;
  /** Default session timeout of the deployment's `connect()`. Default 10 s. */
  sessionTimeoutMs?: number;
  /** Default operation timeout for clients. Default 30 s. */
  operationTimeoutMs?: number;
  /** How often the heartbeat looks for expired sessions and TTL nodes. Default 1 s. */
  heartbeatIntervalMs?: number;
  /** Clock skew the writer and heartbeat allow for between functions. Default 1 s. */
  clockSkewMs?: number;
  /** Most requests the writer takes per invocation. */
  writerBatchSize?: number;
  /** Most batches the distributor takes per invocation. */
  distributorBatchSize?: number;
  /** Wrappers around the functions' ports (fault injection). */
  wrap?: PortWrappers;
  /** Wraps the writer's and distributor's batch handlers (crash injection, tracing). */
  wrapHandler?: (functionName: 'writer' | 'distributor', handler: BatchHandler) => BatchHandler;
  /** Test hook: awaited by the distributor between two record writes. */
  betweenDistributorWrites?: (path: string) => Promise<void>;
  /** Called with every error a function throws (the runtime retries it). */
  onFunctionError?: (functionName: string, error: unknown) => void;
  /**
   * Wraps the channel one client reads its replies and events from (fault injection: hold or
   * delay one client's deliveries). `sessionId` is the id the client asked for, when it did.
   */
  wrapClientChannel?: (channel: Channel, client: { sessionId?: number }) => Channel;
}

/** Options of {@link createEmbeddedService}; batch sizes default to 100. */
export interface EmbeddedServiceOptions extends DeploymentOptions {
  /**
   * Per-function clocks (fault injection: clocks of different functions differ by up to a second).
   * Each defaults to `clock`; clients always use `clock`.
   */
  functionClocks?: { writer?: Clock; heartbeat?: Clock };
}

/**
 * What every deployment offers (the embedded one, and the local AWS and GCP deployments on
 * emulators): the shape the portable guarantee suite and the randomised runs drive.
 */
export interface Deployment {
  readonly clock: Clock;
  /** Resolves once the deployment is bootstrapped and its functions run. */
  readonly ready: Promise<void>;
  /** Opens a session; resolves a CONNECTED client. */
  connect(options?: ClientOptions): Promise<FaaSKeeperClient>;
  /** Cuts a client off (sends and reads fail, channel messages wait), as a partition or a vanished client. */
  partition(client: FaaSKeeperClient): void;
  /** Reconnects a partitioned client; messages held meanwhile are delivered. */
  heal(client: FaaSKeeperClient): void;
  /** Runs the heartbeat once now. */
  heartbeat(): Promise<void>;
  /** Stops every client and function of this deployment (and releases what it created). */
  close(): Promise<void>;
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
  const systemStore = (wrap.systemStore ?? ((s) => s))(new MemorySystemStore());
  const userStore = (wrap.userStore ?? ((s) => s))(new MemoryUserStore());
  const bigMessages = { maxMessageBytes: 4 * 1024 * 1024, maxBatch: 100 };
  const writerQueue = (wrap.writerQueue ?? ((q) => q))(
    new MemoryQueue('writer', { clock, capabilities: bigMessages }),
  );
  const distributorQueue = (wrap.distributorQueue ?? ((q) => q))(
    new MemoryQueue('distributor', { clock, capabilities: bigMessages }),
  );
  const channel = (wrap.channel ?? ((c) => c))(new MemoryChannel({ maxMessageBytes: 4 * 1024 * 1024 }));
  const runtime = new MemoryRuntime(
    options.onFunctionError === undefined ? { clock } : { clock, onError: options.onFunctionError },
  );
  const skew = options.clockSkewMs ?? 1000;
  const writerClock = options.functionClocks?.writer ?? clock;
  const heartbeatClock = options.functionClocks?.heartbeat ?? clock;
  const wrapHandler = options.wrapHandler ?? ((_name, h) => h);
  const heartbeat = createHeartbeat({ systemStore, writerQueue, clock: heartbeatClock, clockSkewMs: skew });
  const pool = new ClientPool('embedded deployment');
  let closed = false;
  const bindings: Binding[] = [];
  // The functions start once the root exists; connect() waits for that.
  const ready = bootstrap(systemStore, userStore).then(() => {
    if (closed) return;
    bindings.push(
      runtime.bindQueue(
        writerQueue,
        wrapHandler(
          'writer',
          createWriter({ systemStore, distributorQueue, clock: writerClock, clockSkewMs: skew }),
        ),
        {
          functionName: 'writer',
          batchSize: options.writerBatchSize ?? 100,
          timeoutMs: 30_000,
        },
      ),
      runtime.bindQueue(
        distributorQueue,
        wrapHandler(
          'distributor',
          createDistributor({
            userStore,
            channel,
            ...(options.betweenDistributorWrites ? { betweenWrites: options.betweenDistributorWrites } : {}),
          }),
        ),
        { functionName: 'distributor', batchSize: options.distributorBatchSize ?? 100, timeoutMs: 30_000 },
      ),
      runtime.schedule('heartbeat', options.heartbeatIntervalMs ?? 1000, heartbeat),
    );
  });

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
        { writerQueue, userStore, channel: own },
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
      await heartbeat({ deadline: clock.now() + 10_000, functionName: 'heartbeat' });
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
