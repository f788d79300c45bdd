import type { FaaSKeeperClient } from '../../client/client.js';
import type { Op } from '../../client/types.js';
import {
  createEmbeddedService,
  type EmbeddedService,
  type PortWrappers,
} from '../../embedded/embedded-service.js';
import { CreateMode } from '../../model/create-mode.js';
import { FaaSKeeperError } from '../../model/errors.js';
import { ManualClock } from '../../ports/clock.js';
import type { ChannelMessage, SessionItem, SystemNodeItem } from '../../protocol/messages.js';
import { checkLinearizable, type LinearizabilityResult, type Operation } from '../linearizability/checker.js';
import { HistoryRecorder } from '../linearizability/history.js';
import { type ZInput, type ZMultiOp, type ZOutput, znodeModel } from '../linearizability/znode-model.js';
import { ChannelLog } from './channel-log.js';
import { CrashError, CrashInjector } from './crash.js';
import { createFaultInjector, DEFAULT_FAULTS, type FaultPlan, type FaultStats } from './faults.js';
import { checkFinalState, drain } from './final-state.js';
import { unwrapPort, yieldTurns } from './intercept.js';
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
  /** Client operation timeout, in clock ms (time runs ~50× faster than wall time). Default 30 s. */
  operationTimeoutMs?: number;
  /** Wall-time guard for the whole run. Default 20 s. */
  timeoutMs?: number;
  /**
   * Extra wrappers innermost around the in-memory ports: a deliberately broken adapter, to show
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
  ok: boolean;
}

const decoder = new TextDecoder();
const MAYBE_APPLIED = new Set(['CONNECTIONLOSS', 'OPERATIONTIMEOUT', 'SESSIONEXPIRED']);
const DEFINITE = new Set(['NONODE', 'NODEEXISTS', 'BADVERSION']);

/**
 * One seeded randomised run (DESIGN.md §5): several clients issue random concurrent operations on a
 * few paths against an embedded deployment whose ports inject throttling, timeouts after effect,
 * delays, duplicate / delayed / split deliveries and function crashes, whose writer and heartbeat
 * clocks are skewed by up to a second, and where one more client vanishes without closing. It
 * records the history and checks that it is linearizable (with a final read of every path, so a
 * lost or doubled write shows), that every one-shot watch fired at most once, that every session
 * saw its messages in zxid order with one reply per request, that the vanished client's session
 * and ephemeral node are gone, and {@link checkFinalState}.
 *
 * Same seed, same faults drawn in the same call order; interleavings also depend on the event loop,
 * so a replay reproduces a failure with high but not certain probability.
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
  const service = createEmbeddedService({
    clock,
    sessionTimeoutMs: 10_000,
    operationTimeoutMs: options.operationTimeoutMs ?? 30_000,
    clockSkewMs: 1000,
    heartbeatIntervalMs: 1000,
    writerBatchSize: 10,
    distributorBatchSize: 10,
    functionClocks: {
      writer: new SkewedClock(clock, writerSkew),
      heartbeat: new SkewedClock(clock, heartbeatSkew),
    },
    wrap: {
      systemStore: (s) => crash.wrap.systemStore(faults.wrap.systemStore(sabotage.systemStore?.(s) ?? s)),
      userStore: (s) => crash.wrap.userStore(faults.wrap.userStore(sabotage.userStore?.(s) ?? s)),
      writerQueue: (q) => crash.wrap.writerQueue(faults.wrap.writerQueue(sabotage.writerQueue?.(q) ?? q)),
      distributorQueue: (q) =>
        crash.wrap.distributorQueue(faults.wrap.distributorQueue(sabotage.distributorQueue?.(q) ?? q)),
      channel: (c) => crash.wrap.channel(channel.wrap(faults.wrap.channel(sabotage.channel?.(c) ?? c))),
    },
    wrapHandler: crash.wrapHandler,
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
  });

  // Time moves while the clients work: heartbeats, pings, expiry and timeouts all happen.
  let running = true;
  const driver = (async () => {
    while (running) {
      await clock.advance(50);
      await new Promise<void>((resolve) => setTimeout(resolve, 1));
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
  const deadline = Date.now() + (options.timeoutMs ?? 20_000);
  const clients: FaaSKeeperClient[] = [];
  let ghost: FaaSKeeperClient | undefined;
  try {
    await service.ready;
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
        (await unwrapPort(service.ports.systemStore).get<SessionItem>({
          kind: 'session',
          id: ghost!.sessionId,
        })) === undefined;
      while (!(await sessionGone())) {
        if (Date.now() > deadline) {
          problems.push('the vanished client’s session never expired');
          break;
        }
        await new Promise<void>((resolve) => setTimeout(resolve, 2));
      }
    }
    running = false;
    await driver;
    await drain(service);
    if (ghost !== undefined) {
      const ephemeral = await unwrapPort(service.ports.systemStore).get<SystemNodeItem>({
        kind: 'node',
        id: '/ghost',
      });
      if (ephemeral?.value.node !== undefined) problems.push('the vanished client’s ephemeral node is left');
      service.heal(ghost);
      await drain(service);
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
        const output: ZOutput =
          body.result.type === 'setData' ? { type: 'ok', version: body.result.stat.version } : { type: 'ok' };
        history.resolve(u.op, { output, return: late.tick });
      }
    }

    // Final reads of the drained state close the history: a lost or doubled write shows here.
    const user = unwrapPort(service.ports.userStore);
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
    problems.push(...(await checkFinalState(service)));
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

async function closeAll(service: EmbeddedService, clients: FaaSKeeperClient[]): Promise<void> {
  await Promise.all(clients.map((zk) => zk.close().catch(() => undefined)));
  await service.close();
}
