import type { ClientOptions, FaaSKeeperClient } from '../client/client.js';
import type { Channel } from '../ports/channel.js';
import type { Clock } from '../ports/clock.js';
import type { Logger } from '../ports/logger.js';
import type { Queue } from '../ports/queue.js';
import type { BatchHandler } from '../ports/runtime.js';
import type { SystemStore } from '../ports/system-store.js';
import type { UserStore } from '../ports/user-store.js';

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
  /** Most batches the distributor takes per invocation (with `distribution: 'queue'`). */
  distributorBatchSize?: number;
  /**
   * How the writer hands committed batches to the distributor: in its own invocation (`inline`,
   * the default) or through the distributor queue (`queue`). See `FunctionsOptions.distribution`.
   */
  distribution?: 'inline' | 'queue';
  /** Wrappers around the functions' ports (fault injection). */
  wrap?: PortWrappers;
  /** Wraps the writer's and distributor's batch handlers (crash injection, tracing). */
  wrapHandler?: (functionName: 'writer' | 'distributor', handler: BatchHandler) => BatchHandler;
  /** Test hook: awaited by the distributor between two record writes. */
  betweenDistributorWrites?: (path: string) => Promise<void>;
  /** Called with every error a function throws (the runtime retries it). */
  onFunctionError?: (functionName: string, error: unknown) => void;
  /**
   * Where the functions and the runtime log what they cannot throw to a caller (a dropped batch, a
   * failed poll, a failed start-up) and what they retry. Default: JSON lines on stderr at level
   * `error`, so a test run prints only what was lost (retried failures are `warn`, and reach
   * `onFunctionError`).
   */
  logger?: Logger;
  /**
   * Wraps the channel one client reads its replies and events from (fault injection: hold or
   * delay one client's deliveries). `sessionId` is the id the client asked for, when it did.
   */
  wrapClientChannel?: (channel: Channel, client: { sessionId?: number }) => Channel;
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
