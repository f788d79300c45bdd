import type { FaaSKeeperClient } from '../../client/client.js';
import type { Op } from '../../client/types.js';
import type { PortWrappers } from '../../deployment/deployment.js';
import type { EmbeddedPorts, EmbeddedServiceOptions } from '../../embedded/embedded-service.js';
import { ManualClock } from '../../memory/manual-clock.js';
import { CreateMode } from '../../model/create-mode.js';
import { FaaSKeeperError } from '../../model/errors.js';
import type { Channel } from '../../ports/channel.js';
import type { UserStore } from '../../ports/user-store.js';
import type { ChannelMessage, SessionItem, SystemNodeItem } from '../../protocol/messages.js';
import { checkLinearizable, type LinearizabilityResult, type Operation } from '../linearizability/checker.js';
import { HistoryRecorder } from '../linearizability/history.js';
import { type ZInput, type ZMultiOp, type ZOutput, znodeModel } from '../linearizability/znode-model.js';
import { type DeploymentTarget, embeddedTarget, type TestDeployment } from '../target.js';
import { ChannelLog } from './channel-log.js';
import { CrashError, CrashInjector } from './crash.js';
import {
  createFaultInjector,
  DEFAULT_FAULTS,
  type FaultKind,
  type FaultPlan,
  type FaultStats,
} from './faults.js';
import { ActivityMonitor, checkFinalState, countsDepth, drain, drainIdle } from './final-state.js';
import { interceptPort, PORT_METHODS, unwrapPort, yieldTurns } from './intercept.js';
import { Rng } from './prng.js';
import { SkewedClock } from './skewed-clock.js';

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

const decoder = new TextDecoder();
const MAYBE_APPLIED = new Set(['CONNECTIONLOSS', 'OPERATIONTIMEOUT', 'SESSIONEXPIRED']);
const DEFINITE = new Set(['NONODE', 'NODEEXISTS', 'BADVERSION']);
/** The reply each write of the history gets when it succeeds. */
const REPLY_TYPE: Record<ZInput['op'], string> = {
  create: 'create',
  set: 'setData',
  delete: 'delete',
  multi: 'multi',
  get: 'read',
  exists: 'read',
};

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
  const functionErrors: unknown[] = [];
  const sabotage = options.sabotage ?? {};
  const writeGaps = rng.fork();
  const target = options.target ?? embeddedTarget;
  const disabledFaults: { kind: FaultKind; why: string }[] = [];
  if (!target.functionClocks) {
    faults.stats.clockSkew = 0;
    disabledFaults.push({ kind: 'clockSkew', why: 'the target runs every function on one clock' });
  }
  // The functions' own ports, innermost (checks read them fault-free), and their idleness.
  const raw: Partial<EmbeddedPorts> = {};
  const activity = new ActivityMonitor();
  const wrappedHandlers = new Set<string>();
  let functionsChannel: Channel | undefined;
  const deployOptions: EmbeddedServiceOptions = {
    clock,
    sessionTimeoutMs: 10_000,
    operationTimeoutMs: options.operationTimeoutMs ?? 30_000,
    clockSkewMs: 1000,
    heartbeatIntervalMs: 1000,
    writerBatchSize: 10,
    distributorBatchSize: 10,
    ...(target.functionClocks
      ? {
          functionClocks: {
            writer: new SkewedClock(clock, writerSkew),
            heartbeat: new SkewedClock(clock, heartbeatSkew),
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
  const lateReplies = new Map<string, { tick: number; message: ChannelMessage }>();
  channel.onReply = (session, message) => {
    if (message.body.type === 'reply')
      lateReplies.set(`${session}:${message.body.seq}`, { tick: history.stamp(), message });
  };
  const unresolved: { op: Operation<ZInput, ZOutput>; session: number; seq: number }[] = [];
  const watchFired = new Map<string, number>();
  let unknownOutcomes = 0;
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
        await randomOp(c, n, zk, r);
        if (zk.state === 'EXPIRED' || zk.state === 'CLOSED') break;
      }
    };

    const randomOp = async (c: number, n: number, zk: FaaSKeeperClient, r: Rng) => {
      const path = r.pick(paths);
      const data = `c${c}.${n}`;
      const version = r.chance(0.5) ? -1 : r.int(3);
      // Client 0 mostly scans: a reader racing the writers is what meets a half-applied batch.
      const roll = c === 0 && r.chance(0.6) ? 0 : r.next();
      let input: ZInput;
      let run: () => Promise<ZOutput>;
      if (roll < 0.1) {
        for (const p of paths) {
          const done = history.invoke(c, { op: 'get', path: p });
          try {
            const { data: d, stat } = await zk.getData(p);
            done({ type: 'ok', data: decoder.decode(d), version: stat.version });
          } catch (error) {
            if (error instanceof FaaSKeeperError && error.code === 'NONODE')
              done({ type: 'error', code: 'NONODE' });
            else if (!(error instanceof FaaSKeeperError && MAYBE_APPLIED.has(error.code)))
              problems.push(`client ${c}: unexpected error reading ${p}: ${String(error)}`);
          }
        }
        return;
      }
      if (roll < 0.25) {
        input = { op: 'get', path };
        run = async () => {
          const { data: d, stat } = await zk.getData(path);
          return { type: 'ok', data: decoder.decode(d), version: stat.version };
        };
      } else if (roll < 0.3) {
        input = { op: 'get', path };
        const id = `c${c}.${n} getData ${path}`;
        run = async () => {
          const { data: d, stat } = await zk.getData(path, { watch: watcher(id, path) });
          return { type: 'ok', data: decoder.decode(d), version: stat.version };
        };
      } else if (roll < 0.4) {
        input = { op: 'exists', path };
        const watched = r.chance(0.3);
        const id = `c${c}.${n} exists ${path}`;
        run = async () => {
          const stat = await zk.exists(path, watched ? { watch: watcher(id, path) } : {});
          return { type: 'ok', version: stat === null ? null : stat.version };
        };
      } else if (roll < 0.6) {
        input = { op: 'set', path, data, version };
        run = async () => ({ type: 'ok', version: (await zk.setData(path, data, { version })).version });
      } else if (roll < 0.78) {
        input = { op: 'create', path, data };
        run = async () => {
          await zk.create(path, data);
          return { type: 'ok' };
        };
      } else if (roll < 0.92) {
        input = { op: 'delete', path, version };
        run = async () => {
          await zk.delete(path, { version });
          return { type: 'ok' };
        };
      } else {
        // Multis pair /k0 with /k1, /k2 with /k3, ...: atomicity across paths is tested while the
        // checker can still split the history into small independent parts.
        const index = paths.indexOf(path);
        const other = paths[index ^ 1] ?? path;
        const kind = r.int(4);
        const ops: ZMultiOp[] =
          kind === 0
            ? [
                { op: 'check', path, version: r.int(3) },
                { op: 'set', path: other, data, version: -1 },
              ]
            : kind === 1
              ? [
                  { op: 'create', path, data },
                  { op: 'create', path: other, data },
                ]
              : kind === 2
                ? [
                    { op: 'delete', path, version: -1 },
                    { op: 'delete', path: other, version: -1 },
                  ]
                : [
                    { op: 'set', path, data, version: -1 },
                    { op: 'set', path: other, data, version: -1 },
                  ];
        input = { op: 'multi', ops };
        run = async () => {
          await zk.multi(ops.map(toClientOp));
          return { type: 'ok' };
        };
      }
      const done = history.invoke(c, input);
      const pending = run();
      // The request's seq (the op issued it synchronously): a late reply tells how it ended.
      const seq = (zk as unknown as { seq: number }).seq;
      try {
        done(await pending);
      } catch (error) {
        if (error instanceof FaaSKeeperError && DEFINITE.has(error.code)) {
          done({ type: 'error', code: error.code as 'NONODE' });
        } else if (error instanceof FaaSKeeperError && MAYBE_APPLIED.has(error.code)) {
          // A failed read changed nothing and says nothing: leave it out. A write may have applied.
          if (input.op !== 'get' && input.op !== 'exists') {
            unknownOutcomes++;
            unresolved.push({ op: done({ type: 'unknown' }, true), session: zk.sessionNumber, seq });
          }
        } else {
          problems.push(`client ${c}: unexpected error for ${JSON.stringify(input)}: ${String(error)}`);
        }
      }
    };

    const watcher = (id: string, path: string) => {
      watchFired.set(id, 0);
      return (event: { path: string }) => {
        watchFired.set(id, (watchFired.get(id) ?? 0) + 1);
        if (event.path !== path) problems.push(`watch ${id} fired for ${event.path}`);
      };
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

    // Operations of unknown outcome whose reply came later have a known outcome after all; without
    // a reply (the session ended first) they stay unknown.
    for (const u of unresolved) {
      const late = lateReplies.get(`${u.session}:${u.seq}`);
      if (late === undefined || late.message.body.type !== 'reply') continue;
      resolvedOutcomes++;
      const body = late.message.body;
      if (body.error !== undefined) {
        if (DEFINITE.has(body.error.code))
          history.resolve(u.op, {
            output: { type: 'error', code: body.error.code as 'NONODE' },
            return: late.tick,
          });
        else if (body.error.code === 'SESSIONEXPIRED') history.resolve(u.op, undefined);
      } else if (body.result !== undefined) {
        if (body.result.type !== REPLY_TYPE[u.op.input.op]) {
          // A reply of another kind under the op's seq (a ping's): the client gave the request up
          // unsent and sent a ping in its place, so that the session's seqs stay gapless. Not applied.
          history.resolve(u.op, undefined);
          continue;
        }
        const output: ZOutput =
          body.result.type === 'setData' ? { type: 'ok', version: body.result.stat.version } : { type: 'ok' };
        history.resolve(u.op, { output, return: late.tick });
      }
    }

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
    for (const [id, count] of watchFired) if (count > 1) problems.push(`watch ${id} fired ${count} times`);
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
    unknownOutcomes,
    resolvedOutcomes,
    faults: stats,
    linearizability,
    problems,
    undecided: linearizability.ok === 'unknown',
    target: target.name,
    clockMs: clock.now() - clockStart,
    wallMs: Date.now() - wallStart,
    disabledFaults,
    ok: problems.length === 0,
  };
}

function toClientOp(op: ZMultiOp): Op {
  switch (op.op) {
    case 'create':
      return { op: 'create', path: op.path, data: op.data };
    case 'set':
      return { op: 'setData', path: op.path, data: op.data, version: op.version };
    case 'delete':
      return { op: 'delete', path: op.path, version: op.version };
    case 'check':
      return { op: 'check', path: op.path, version: op.version };
  }
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
    `${result.target} seed ${result.seed}: ${result.operations} ops, ${result.unknownOutcomes} of unknown outcome ` +
    `(${result.resolvedOutcomes} settled by a late reply), ${Math.round(result.clockMs / 1000)} s of clock in ` +
    `${Math.round(result.wallMs / 1000)} s; faults: ${faults}${off ? `; off: ${off}` : ''}`
  );
}

/**
 * Deliberately broken user stores, as `sabotage` of a run: the run's checks must catch each, which
 * shows they can fail on that target. Each call makes a fresh wrapper.
 */
export const brokenUserStores = {
  /** Never removes a record: tombstones of deleted nodes stay (the final-state check must see them). */
  keepsTombstones: (): PortWrappers => ({
    userStore: (inner: UserStore) =>
      interceptPort(inner, PORT_METHODS.userStore, async (method, _args, call) =>
        method === 'delete' ? undefined : call(),
      ),
  }),
  /**
   * Drops every write of the root record after bootstrap's. A run's vanished client's ephemeral
   * node alone changes the root's children, so the lost writes always show.
   */
  losesRootUpdates: (): PortWrappers => {
    let rootPuts = 0;
    return {
      userStore: (inner: UserStore) =>
        interceptPort(inner, PORT_METHODS.userStore, async (method, args, call) =>
          method === 'put' && args[0] === '/' && ++rootPuts > 1 ? undefined : call(),
        ),
    };
  },
};
