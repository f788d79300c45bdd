import type { FaaSKeeperClient } from '../../client/client.js';
import type { PortWrappers } from '../../deployment/deployment.js';
import { ManualClock } from '../../memory/manual-clock.js';
import { CreateMode } from '../../model/create-mode.js';
import type { SessionItem, SystemNodeItem } from '../../protocol/messages.js';
import { checkLinearizable, type LinearizabilityResult } from '../linearizability/checker.js';
import { HistoryRecorder } from '../linearizability/history.js';
import { type ZInput, type ZOutput, znodeModel } from '../linearizability/znode-model.js';
import { type DeploymentTarget, embeddedTarget, type TestDeployment } from '../target.js';
import { ChannelLog } from './channel-log.js';
import { CrashInjector } from './crash.js';
import {
  createFaultInjector,
  DEFAULT_FAULTS,
  type FaultKind,
  type FaultPlan,
  type FaultStats,
} from './faults.js';
import { ActivityMonitor, checkFinalState, countsDepth, drain, drainIdle } from './final-state.js';
import { unwrapPort } from './intercept.js';
import { type LateReply, settleLateReplies } from './late-replies.js';
import { Rng } from './prng.js';
import { RandomOps } from './random-ops.js';
import { runDeployment } from './run-deployment.js';

const decoder = new TextDecoder();

/** Options of one randomised run. */
export interface RandomRunOptions {
  seed: number;
  /** Operations issued in total, across clients. */
  ops: number;
  /** Concurrent clients. Default 4. */
  clients?: number;
  /** Paths the clients contend on (`/k0`, `/k1`, ...). Default 4. */
  paths?: number;
  /** Fault probabilities. Default {@link DEFAULT_FAULTS}. */
  faults?: Partial<FaultPlan>;
  /** Probability that a function crashes at each port call (then is retried). Default 0.01. */
  crashProbability?: number;
  /** Client operation timeout, in clock ms (time runs ~50× faster than wall time in memory). Default 30 s. */
  operationTimeoutMs?: number;
  /**
   * Wall-time guard for issuing operations and waiting for the vanished session to expire. Default
   * 20 s in memory, half the target's `testTimeoutMs` elsewhere (the rest is for draining and checks).
   */
  timeoutMs?: number;
  /**
   * Where to run. Default {@link embeddedTarget}. The target's deployment must honour
   * `DeploymentOptions.wrap`, `wrapHandler`, `wrapClientChannel`, `clock` and `onFunctionError`;
   * what it cannot do (per-function clocks, crashes of a handler it does not wrap) is left out of
   * the run and listed in {@link RandomRunResult.disabledFaults}.
   */
  target?: DeploymentTarget;
  /**
   * Clock ms the run's ManualClock advances per step. In memory a step is 1 ms of wall time (time
   * runs ~50× faster); elsewhere a step is one `target.settle()`. Default 50.
   */
  clockStepMs?: number;
  /**
   * Extra wrappers innermost around the functions' ports: a deliberately broken adapter, to show
   * that the run's checks catch it.
   */
  sabotage?: PortWrappers;
  /**
   * How an embedded deployment's writer commits (`EmbeddedServiceOptions.commit`; other targets
   * commit as their store does). Default by the seed: the redo log on odd seeds, one transaction on
   * even ones, so that the fixed seeds and a soak cover both and a replay takes the same path.
   */
  commit?: 'transaction' | 'redo-log';
}

/** What a randomised run did and found. */
export interface RandomRunResult {
  seed: number;
  /** Operations recorded in the history (including those of unknown outcome). */
  operations: number;
  /** Operations whose outcome the client did not learn (CONNECTIONLOSS, OPERATIONTIMEOUT, session ended). */
  unknownOutcomes: number;
  /** Of those, how many a late reply settled (the rest stay "maybe applied" in the history). */
  resolvedOutcomes: number;
  faults: FaultStats;
  linearizability: LinearizabilityResult<ZInput, ZOutput>;
  /** Everything that went wrong (empty: the run passed). */
  problems: string[];
  /** The linearizability search hit its step limit: neither proven nor refuted. */
  undecided: boolean;
  /** The target's name. */
  target: string;
  /** How the writer was asked to commit ({@link RandomRunOptions.commit}). */
  commit: 'transaction' | 'redo-log';
  /** Clock time the run covered, in ms (sessions, timeouts and heartbeats ran on it). */
  clockMs: number;
  /** Wall time the run took (deploy to close), in ms. */
  wallMs: number;
  /**
   * Fault kinds the target could not inject, fully or in part, and why (empty in memory): e.g.
   * `clockSkew` where functions cannot have clocks of their own.
   */
  disabledFaults: { kind: FaultKind; why: string }[];
  ok: boolean;
}

/**
 * One seeded randomised run (DESIGN.md §5): several clients issue random concurrent operations on a
 * few paths against a deployment (embedded by default, or any {@link DeploymentTarget}) whose ports
 * inject throttling, timeouts after effect, delays, duplicate / delayed / split deliveries and
 * function crashes, whose writer and heartbeat clocks are skewed by up to a second (where the target
 * allows), and where one more client vanishes without closing. It
 * records the history and checks that it is linearizable (with a final read of every path, so a
 * lost or doubled write shows), that every one-shot watch fired at most once, that every session
 * saw its messages in zxid order with one reply per request, that the vanished client's session
 * and ephemeral node are gone, and {@link checkFinalState}.
 *
 * Same seed, same faults drawn in the same call order; interleavings also depend on the event loop,
 * so a replay reproduces a failure with high but not certain probability.
 *
 * Everything goes through `target.deploy()` and {@link TestDeployment}. The stores the checks read
 * are the functions' own, captured (innermost, fault-free) through `DeploymentOptions.wrap`; what
 * each client is handed is logged through `wrapClientChannel` (where clients have channels of their
 * own, delivery faults are injected there too). The run's ManualClock moves in steps paced by wall
 * time: 1 ms per step in memory, one `target.settle()` per step elsewhere, so that functions on
 * emulators keep up with the clock that times sessions out. History ticks come from the real order
 * of calls, returns and late replies, whatever the pace.
 */
export async function runRandomScenario(options: RandomRunOptions): Promise<RandomRunResult> {
  const rng = new Rng(options.seed);
  const clientCount = options.clients ?? 4;
  const pathCount = options.paths ?? 4;
  const paths = Array.from({ length: pathCount }, (_, i) => `/k${i}`);
  const problems: string[] = [];
  const clock = new ManualClock();
  const faults = createFaultInjector(rng.fork().seed, options.faults ?? DEFAULT_FAULTS);
  const crash = new CrashInjector();
  const channel = new ChannelLog();
  // Writer and heartbeat clocks differ from each other (and from the clients') by up to a second.
  const writerSkew = rng.between(-500, 500);
  const heartbeatSkew = rng.between(-500, 500);
  faults.stats.clockSkew = (writerSkew !== 0 ? 1 : 0) + (heartbeatSkew !== 0 ? 1 : 0);
  const target = options.target ?? embeddedTarget;
  const commit = options.commit ?? (options.seed % 2 === 0 ? 'transaction' : 'redo-log');
  const disabledFaults: { kind: FaultKind; why: string }[] = [];
  if (!target.functionClocks) {
    faults.stats.clockSkew = 0;
    disabledFaults.push({ kind: 'clockSkew', why: 'the target runs every function on one clock' });
  }
  const activity = new ActivityMonitor();
  const {
    options: deployOptions,
    raw,
    wrappedHandlers,
    functionErrors,
  } = runDeployment({
    clock,
    faults,
    crash,
    channel,
    activity,
    sabotage: options.sabotage ?? {},
    target,
    skew: { writer: writerSkew, heartbeat: heartbeatSkew },
    writeGaps: rng.fork(),
    operationTimeoutMs: options.operationTimeoutMs ?? 30_000,
    commit,
  });
  const wallStart = Date.now();
  const service: TestDeployment = await target.deploy(deployOptions);
  const clockStart = clock.now();
  const { systemStore, userStore, writerQueue, distributorQueue } = raw;
  if (
    systemStore === undefined ||
    userStore === undefined ||
    writerQueue === undefined ||
    distributorQueue === undefined
  ) {
    await service.close();
    throw new Error(`target ${target.name} does not pass every function port through DeploymentOptions.wrap`);
  }
  const stores = { ports: { systemStore, userStore } };
  // In memory the queues can be counted and time runs ~50× wall time; elsewhere the deployment's
  // idleness is watched, and the clock waits for the target to settle between steps.
  const inMemory = countsDepth(writerQueue) && countsDepth(distributorQueue);
  activity.enabled = !inMemory;
  const pace = inMemory
    ? (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))
    : () => target.settle();
  for (const name of ['writer', 'distributor'] as const)
    if (!wrappedHandlers.has(name))
      disabledFaults.push({
        kind: 'crash',
        why: `the ${name} is not passed through wrapHandler: its invocations never crash`,
      });
  const clockStep = options.clockStepMs ?? 50;

  // Time moves while the clients work: heartbeats, pings, expiry and timeouts all happen.
  let running = true;
  const driver = (async () => {
    while (running) {
      await clock.advance(clockStep);
      await pace(1);
    }
  })();

  const history = new HistoryRecorder<ZInput, ZOutput>();
  // Replies that came after their client gave up (timeout, lost connection): how those ops ended.
  const lateReplies = new Map<string, LateReply>();
  channel.onReply = (session, message) => {
    if (message.body.type === 'reply')
      lateReplies.set(`${session}:${message.body.seq}`, { tick: history.stamp(), message });
  };
  const ops = new RandomOps(history, paths, problems);
  let resolvedOutcomes = 0;
  const deadline = Date.now() + (options.timeoutMs ?? (inMemory ? 20_000 : target.testTimeoutMs / 2));
  // Draining and the final checks get their own budget (emulators are slow to go quiet).
  const drainMs = inMemory ? 10_000 : Math.max(10_000, target.testTimeoutMs / 4);
  const drainAll = () =>
    inMemory
      ? drain({ ports: { writerQueue, distributorQueue } }, drainMs)
      : drainIdle(stores, activity, () => target.quiet(), drainMs);
  const clients: FaaSKeeperClient[] = [];
  let ghost: FaaSKeeperClient | undefined;
  try {
    for (let c = 0; c < clientCount; c++) clients.push(await service.connect());
    ghost = await service.connect({ sessionTimeoutMs: 2000 });
    await ghost.create('/ghost', 'g', { mode: CreateMode.EPHEMERAL });
    const ghostAt = rng.int(Math.max(1, options.ops));
    const blipAt = rng.int(Math.max(1, options.ops));
    crash.setRandomCrashes({ rng: rng.fork(), probability: options.crashProbability ?? 0.01 });
    faults.enable();

    let issued = 0;
    const worker = async (c: number, zk: FaaSKeeperClient, r: Rng) => {
      let n = 0;
      while (issued < options.ops && Date.now() < deadline) {
        if (issued === ghostAt && ghost !== undefined) {
          service.partition(ghost); // vanishes without closing
          faults.stats.partition++;
        }
        if (issued === blipAt) {
          // A short network partition of one client: its calls fail, its messages wait, then it heals.
          const cut = clients[1 + rng.int(clients.length - 1)] ?? zk;
          service.partition(cut);
          faults.stats.partition++;
          clock.setTimeout(() => service.heal(cut), 1500);
        }
        issued++;
        n++;
        await ops.run(c, n, zk, r);
        if (zk.state === 'EXPIRED' || zk.state === 'CLOSED') break;
      }
    };

    await Promise.all(clients.map((zk, c) => worker(c, zk, rng.fork())));
    if (Date.now() >= deadline) problems.push('the run hit its wall-time guard before all operations ran');
    faults.disable();
    crash.setRandomCrashes(undefined);
    for (const zk of clients) service.heal(zk); // a partition still running ends here

    // The vanished client's session must expire and its ephemeral go (time keeps moving).
    if (ghost !== undefined) {
      if (issued <= ghostAt) {
        service.partition(ghost);
        faults.stats.partition++;
      }
      const sessionGone = async () =>
        (await unwrapPort(systemStore).get<SessionItem>({
          kind: 'session',
          id: ghost!.sessionId,
        })) === undefined;
      while (!(await sessionGone())) {
        if (Date.now() > deadline) {
          problems.push('the vanished client’s session never expired');
          break;
        }
        await pace(2);
      }
    }
    running = false;
    await driver;
    await drainAll();
    if (ghost !== undefined) {
      const ephemeral = await unwrapPort(systemStore).get<SystemNodeItem>({
        kind: 'node',
        id: '/ghost',
      });
      if (ephemeral?.value.node !== undefined) problems.push('the vanished client’s ephemeral node is left');
      service.heal(ghost);
      await drainAll();
      if (ghost.state !== 'EXPIRED') problems.push(`the vanished client is ${ghost.state}, not EXPIRED`);
    }

    // Operations of unknown outcome whose reply came later have a known outcome after all.
    resolvedOutcomes = settleLateReplies(history, ops.unresolved, lateReplies);

    // Final reads of the drained state close the history: a lost or doubled write shows here.
    const user = unwrapPort(userStore);
    for (const path of paths) {
      const record = await user.get(path);
      history.final(
        -1,
        { op: 'get', path },
        record === undefined || record.deleted
          ? { type: 'error', code: 'NONODE' }
          : { type: 'ok', data: decoder.decode(record.data), version: record.stat.version },
      );
    }
    problems.push(...(await checkFinalState(stores, { probe: [...paths, '/ghost'] })));
    problems.push(...channel.problems());
    for (const [id, count] of ops.watchFired)
      if (count > 1) problems.push(`watch ${id} fired ${count} times`);
    for (const e of functionErrors) problems.push(`a function failed unexpectedly: ${String(e)}`);
  } catch (error) {
    problems.push(
      `the run failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
    );
  } finally {
    running = false;
    faults.disable();
    crash.setRandomCrashes(undefined);
    await driver;
    await closeAll(service, clients);
  }

  const linearizability = checkLinearizable(znodeModel(), history.ops, { maxSteps: 5_000_000 });
  // An undecided search is no proof of a bug: it is reported (`undecided`), not counted as one.
  if (linearizability.ok === false) problems.push(linearizability.failing?.report ?? 'not linearizable');
  const stats = { ...faults.stats, crash: crash.crashes };
  return {
    seed: options.seed,
    operations: history.ops.length,
    unknownOutcomes: ops.unknownOutcomes,
    resolvedOutcomes,
    faults: stats,
    linearizability,
    problems,
    undecided: linearizability.ok === 'unknown',
    target: target.name,
    commit,
    clockMs: clock.now() - clockStart,
    wallMs: Date.now() - wallStart,
    disabledFaults,
    ok: problems.length === 0,
  };
}

async function closeAll(service: TestDeployment, clients: FaaSKeeperClient[]): Promise<void> {
  await Promise.all(clients.map((zk) => zk.close().catch(() => undefined)));
  await service.close();
}

/** One line per run: what it covered (the figures a reviewer compares between runs). */
export function describeRun(result: RandomRunResult): string {
  const faults = Object.entries(result.faults)
    .filter(([, n]) => n > 0)
    .map(([kind, n]) => `${kind} ${n}`)
    .join(', ');
  const off = result.disabledFaults.map((d) => `${d.kind} (${d.why})`).join(', ');
  return (
    `${result.target} seed ${result.seed} (${result.commit} commit): ${result.operations} ops, ${result.unknownOutcomes} of unknown outcome ` +
    `(${result.resolvedOutcomes} settled by a late reply), ${Math.round(result.clockMs / 1000)} s of clock in ` +
    `${Math.round(result.wallMs / 1000)} s; faults: ${faults}${off ? `; off: ${off}` : ''}`
  );
}
