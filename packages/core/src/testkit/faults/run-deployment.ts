/**
 * How a randomised run deploys: every function port wrapped (innermost the raw port the checks
 * read, then activity tracking, sabotage, faults and crashes), skewed function clocks where the
 * target allows, and the clients' channels logged.
 */
import type { PortWrappers } from '../../deployment/deployment.js';
import type { EmbeddedPorts, EmbeddedServiceOptions } from '../../embedded/embedded-service.js';
import type { ManualClock } from '../../memory/manual-clock.js';
import type { Channel } from '../../ports/channel.js';
import type { DeploymentTarget } from '../target.js';
import type { ChannelLog } from './channel-log.js';
import { CrashError, type CrashInjector } from './crash.js';
import type { FaultInjector } from './faults.js';
import type { ActivityMonitor } from './final-state.js';
import { yieldTurns } from './intercept.js';
import type { Rng } from './prng.js';
import { SkewedClock } from './skewed-clock.js';

/** The run's instruments that the deployment is wired to. */
export interface RunInstruments {
  clock: ManualClock;
  faults: FaultInjector;
  crash: CrashInjector;
  channel: ChannelLog;
  activity: ActivityMonitor;
  sabotage: PortWrappers;
  target: DeploymentTarget;
  /** The writer's and the heartbeat's clock offsets, in ms. */
  skew: { writer: number; heartbeat: number };
  /** Draws the gaps between a distributor's writes. */
  writeGaps: Rng;
  operationTimeoutMs: number;
  /** How an embedded deployment's writer commits. */
  commit: 'transaction' | 'redo-log';
}

/** The deployment options of a run, and what the deployment hands back through them. */
export interface RunDeployment {
  options: EmbeddedServiceOptions;
  /** The functions' own ports, innermost (the checks read them fault-free). */
  raw: Partial<EmbeddedPorts>;
  /** Handlers the target passed through `wrapHandler` (only those can crash). */
  wrappedHandlers: Set<string>;
  /** Function errors other than injected crashes and transient errors: each is a problem. */
  functionErrors: unknown[];
}

/** Builds the deployment options of a run. */
export function runDeployment(run: RunInstruments): RunDeployment {
  const { clock, faults, crash, channel, activity, sabotage, target, skew, writeGaps } = run;
  const raw: Partial<EmbeddedPorts> = {};
  const wrappedHandlers = new Set<string>();
  const functionErrors: unknown[] = [];
  let functionsChannel: Channel | undefined;
  const options: EmbeddedServiceOptions = {
    clock,
    sessionTimeoutMs: 10_000,
    operationTimeoutMs: run.operationTimeoutMs,
    clockSkewMs: 1000,
    heartbeatIntervalMs: 1000,
    writerBatchSize: 10,
    distributorBatchSize: 10,
    commit: run.commit,
    ...(target.functionClocks
      ? {
          functionClocks: {
            writer: new SkewedClock(clock, skew.writer),
            heartbeat: new SkewedClock(clock, skew.heartbeat),
          },
        }
      : {}),
    wrap: {
      systemStore: (s) => {
        raw.systemStore = s;
        const inner = activity.wrap.systemStore(sabotage.systemStore?.(s) ?? s);
        return crash.wrap.systemStore(faults.wrap.systemStore(inner));
      },
      userStore: (s) => {
        raw.userStore = s;
        const inner = activity.wrap.userStore(sabotage.userStore?.(s) ?? s);
        return crash.wrap.userStore(faults.wrap.userStore(inner));
      },
      writerQueue: (q) => {
        raw.writerQueue = q;
        const inner = activity.wrap.writerQueue(sabotage.writerQueue?.(q) ?? q);
        return crash.wrap.writerQueue(faults.wrap.writerQueue(inner));
      },
      distributorQueue: (q) => {
        raw.distributorQueue = q;
        const inner = activity.wrap.distributorQueue(sabotage.distributorQueue?.(q) ?? q);
        return crash.wrap.distributorQueue(faults.wrap.distributorQueue(inner));
      },
      channel: (c) => {
        const inner = activity.wrap.channel(sabotage.channel?.(c) ?? c);
        functionsChannel = crash.wrap.channel(faults.wrap.channel(inner));
        return functionsChannel;
      },
    },
    // What each client is handed, as it sees it. Where clients share the functions' channel (in
    // memory) its delivery faults are already in the chain; a client's own channel gets them here.
    wrapClientChannel: (c) => channel.wrap(c === functionsChannel ? c : faults.wrap.channel(c)),
    wrapHandler: (name, handler) => {
      wrappedHandlers.add(name);
      return crash.wrapHandler(name, handler);
    },
    // Widens the window in which a reader can meet a half-applied batch (which it must not see).
    betweenDistributorWrites: async () => {
      if (faults.enabled && writeGaps.chance(0.5)) {
        faults.stats.delay++;
        await yieldTurns(writeGaps.between(1, 16));
      }
    },
    onFunctionError: (_fn, error) => {
      if (!(error instanceof CrashError) && !(error instanceof Error && error.name === 'TransientError'))
        functionErrors.push(error);
    },
  };
  return { options, raw, wrappedHandlers, functionErrors };
}
