import { createDistributor } from '../distributor/distributor.js';
import type { Channel } from '../ports/channel.js';
import { type Clock, systemClock } from '../ports/clock.js';
import { type Logger, withFields } from '../ports/logger.js';
import type { Queue } from '../ports/queue.js';
import type { BatchHandler, ScheduledHandler } from '../ports/runtime.js';
import type { SystemStore } from '../ports/system-store.js';
import type { UserStore } from '../ports/user-store.js';
import { createHeartbeat } from '../session/heartbeat.js';
import { createWriter, type WriterOptions } from '../writer/writer.js';

/** The ports the three functions run on. */
export interface FunctionPorts {
  systemStore: SystemStore;
  userStore: UserStore;
  writerQueue: Queue;
  distributorQueue: Queue;
  channel: Channel;
  /** Where clients queue lease renewals for the heartbeat to fold (GCP); absent: clients write leases. */
  leaseQueue?: Queue;
}

/** Options of {@link createFunctions}. */
export interface FunctionsOptions {
  /** The functions' clock. Default the system clock. */
  clock?: Clock;
  /** Per-function clocks (fault injection: clocks of different functions differ). Each defaults to `clock`. */
  functionClocks?: { writer?: Clock; heartbeat?: Clock };
  /** Where the functions report what they drop or retry; each line carries `function`. */
  logger: Logger;
  /** Clock skew the writer and heartbeat allow for between functions. Default 1 s. */
  clockSkewMs?: number;
  /** How many user-store writes the distributor runs at once. Default: the distributor's. */
  distributorConcurrency?: number;
  /** Wraps the writer's and distributor's batch handlers (crash injection, tracing). */
  wrapHandler?: (functionName: 'writer' | 'distributor', handler: BatchHandler) => BatchHandler;
  /** Test hook: awaited by the distributor between two record writes. */
  betweenDistributorWrites?: (path: string) => Promise<void>;
  /**
   * How the writer hands committed batches to the distributor. `inline` (the default): it calls
   * the distributor in its own invocation right after each commit — per write, one queue send,
   * receive and delete and one function invocation less (docs/cost.md). `queue`: through the
   * distributor queue, to the distributor function (a writer that must return sooner, at the
   * price of that hop).
   */
  distribution?: 'inline' | 'queue';
  /** The deployment's super digest (see {@link WriterOptions.superDigest}); absent: no super user. */
  superDigest?: string;
  /** The key gateways attest client addresses with (see {@link WriterOptions.gatewayKey}). */
  gatewayKey?: string;
  /**
   * The deployment's channel secret, the same for the writer and the distributor (see
   * {@link WriterOptions.channelSecret}); absent: channel messages are not sealed.
   */
  channelSecret?: string;
}

/** The writer, distributor and heartbeat of one deployment, ready for a runtime to invoke. */
export interface Functions {
  writer: BatchHandler;
  distributor: BatchHandler;
  heartbeat: ScheduledHandler;
}

/**
 * Builds the three functions from the ports, the one place every wiring does it (the embedded
 * deployment, the Lambda handlers, the Cloud Functions and the local GCP deployment's pollers), so
 * that each gets the same clocks, skew and logger. The writer logs the requests it refuses and the
 * commits it retries at `warn`; the distributor logs a batch it cannot read, and drops, at `error`.
 */
export function createFunctions(ports: FunctionPorts, options: FunctionsOptions): Functions {
  const clock = options.clock ?? systemClock;
  const clockSkewMs = options.clockSkewMs ?? 1000;
  const wrap = options.wrapHandler ?? ((_name, handler) => handler);
  const writerLog = withFields(options.logger, { function: 'writer' });
  const distributorLog = withFields(options.logger, { function: 'distributor' });
  const secret = options.channelSecret === undefined ? {} : { channelSecret: options.channelSecret };
  const distributor = wrap(
    'distributor',
    createDistributor({
      userStore: ports.userStore,
      channel: ports.channel,
      log: (message, details) => distributorLog.error(message, details),
      ...secret,
      ...(options.distributorConcurrency === undefined
        ? {}
        : { concurrency: options.distributorConcurrency }),
      ...(options.betweenDistributorWrites === undefined
        ? {}
        : { betweenWrites: options.betweenDistributorWrites }),
    }),
  );
  return {
    writer: wrap(
      'writer',
      createWriter({
        systemStore: ports.systemStore,
        ...((options.distribution ?? 'inline') === 'inline'
          ? { distribute: distributor }
          : { distributorQueue: ports.distributorQueue }),
        clock: options.functionClocks?.writer ?? clock,
        clockSkewMs,
        log: (message, details) => writerLog.warn(message, details),
        ...(options.superDigest === undefined ? {} : { superDigest: options.superDigest }),
        ...(options.gatewayKey === undefined ? {} : { gatewayKey: options.gatewayKey }),
        ...secret,
      }),
    ),
    distributor,
    heartbeat: createHeartbeat({
      systemStore: ports.systemStore,
      writerQueue: ports.writerQueue,
      clock: options.functionClocks?.heartbeat ?? clock,
      clockSkewMs,
      channel: ports.channel,
      ...(ports.leaseQueue === undefined ? {} : { leaseQueue: ports.leaseQueue }),
    }),
  };
}
