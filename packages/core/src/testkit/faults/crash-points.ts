import {
  createEmbeddedService,
  type EmbeddedService,
  type EmbeddedServiceOptions,
} from '../../embedded/embedded-service.js';
import { ManualClock } from '../../memory/manual-clock.js';
import type { ReceivedMessage } from '../../ports/queue.js';
import { decodeMessage } from '../../protocol/codec.js';
import type { DistributorBatch, DistributorItem, RequestOp, WriteRequest } from '../../protocol/messages.js';
import { ChannelLog } from './channel-log.js';
import {
  CrashError,
  CrashInjector,
  type CrashPoint,
  type CrashTarget,
  type InvocationTrace,
} from './crash.js';
import { checkFinalState, drain } from './final-state.js';

/** What a crash scenario works with, fresh for every run. */
export interface CrashEnv {
  service: EmbeddedService;
  clock: ManualClock;
  crash: CrashInjector;
  /** What each session's client was handed on its channel. */
  channel: ChannelLog;
}

/**
 * A scenario for {@link enumerateCrashPoints}: `setup` builds the state (no crash), `act` runs the
 * operation under test, during which one invocation of `target` (the first whose batch satisfies
 * `match`) is crashed, and `check` asserts the outcome after the runtime retried it and the
 * deployment drained (throw to fail).
 */
export interface CrashScenario<C, R = unknown> {
  name: string;
  target: CrashTarget;
  /** Picks the invocation to crash; default: the first one of `target` during `act`. */
  match?: (messages: ReceivedMessage[]) => boolean;
  /** Options for the deployment (the clock, wrappers and handler hook are set by the harness). */
  service?: Omit<EmbeddedServiceOptions, 'clock' | 'wrap' | 'wrapHandler'>;
  setup(env: CrashEnv): Promise<C>;
  act(env: CrashEnv, context: C): Promise<R>;
  check(env: CrashEnv, context: C, result: R): Promise<void>;
}

/** One run that went wrong. */
export interface CrashRunFailure {
  /** Where it crashed (`undefined`: the run without a crash). */
  point: CrashPoint | undefined;
  error: string;
}

/** What {@link enumerateCrashPoints} covered and found. */
export interface CrashReport {
  name: string;
  target: CrashTarget;
  /** Port calls of the crashed invocation when nothing crashes: the boundaries are around these. */
  calls: string[];
  /** Runs made: one without a crash, then one before and one after every call. */
  runs: number;
  /** Crashes actually injected. */
  crashes: number;
  failures: CrashRunFailure[];
}

/** Options of {@link enumerateCrashPoints}. */
export interface CrashEnumerationOptions {
  /** Wall-time guard per run against a hang (a lost reply never comes). Default 5 s. */
  runTimeoutMs?: number;
}

/** Matches writer batches holding a request of one of `types`. */
export function requestOfType(...types: RequestOp['type'][]): (messages: ReceivedMessage[]) => boolean {
  return (messages) =>
    messages.some((m) => {
      try {
        return types.includes(decodeMessage<WriteRequest>(m.body).op.type);
      } catch {
        return false;
      }
    });
}

/** Matches distributor batches holding an item that satisfies `test`. */
export function batchItem(
  test: (item: DistributorItem) => boolean,
): (messages: ReceivedMessage[]) => boolean {
  return (messages) =>
    messages.some((m) => {
      try {
        return decodeMessage<DistributorBatch>(m.body).items.some(test);
      } catch {
        return false;
      }
    });
}

async function guard<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

async function runOnce<C, R>(
  scenario: CrashScenario<C, R>,
  point: CrashPoint | undefined,
  timeoutMs: number,
): Promise<{ trace: InvocationTrace; crashes: number }> {
  const clock = new ManualClock();
  const crash = new CrashInjector();
  const channel = new ChannelLog();
  const unexpected: unknown[] = [];
  const service = createEmbeddedService({
    // Unsealed: the scenarios' checks read the replies in the channel log.
    channelSecret: false,
    // By default the writer commits through its redo log, whose replay after a crash is what most
    // needs every boundary tried; a scenario may ask for the one-transaction commit.
    commit: 'redo-log',
    ...scenario.service,
    clock,
    wrap: { ...crash.wrap, channel: (c) => crash.wrap.channel(channel.wrap(c)) },
    wrapHandler: crash.wrapHandler,
    onFunctionError: (_fn, error) => {
      if (!(error instanceof CrashError)) unexpected.push(error);
    },
  });
  const env: CrashEnv = { service, clock, crash, channel };
  try {
    const context = await guard(scenario.setup(env), timeoutMs, 'setup');
    await drain(service);
    const traced = crash.arm(scenario.target, point, scenario.match);
    const result = await guard(scenario.act(env, context), timeoutMs, 'the operation');
    const trace = await guard(traced, timeoutMs, `the ${scenario.target} invocation`);
    await drain(service);
    await scenario.check(env, context, result);
    const problems = [...(await checkFinalState(service)), ...channel.problems()];
    if (problems.length > 0) throw new Error(`inconsistent state:\n  ${problems.join('\n  ')}`);
    if (point !== undefined && point.at < trace.calls.length && crash.crashes !== 1)
      throw new Error(`expected one crash, injected ${crash.crashes}`);
    return { trace, crashes: crash.crashes };
  } finally {
    crash.disarm();
    await service.close();
  }
}

/**
 * Systematic crash injection (DESIGN.md §5: any function may crash between any two cloud calls and
 * be retried with the same input). Runs `scenario` once to count the port calls of the target
 * invocation, then once per boundary: crashing before and after each call k = 0..N-1 (so every gap
 * between two calls, and the call itself taking effect or not). After each crash the runtime
 * retries the batch; the scenario's check and {@link checkFinalState} must hold every time.
 */
export async function enumerateCrashPoints<C, R>(
  scenario: CrashScenario<C, R>,
  options: CrashEnumerationOptions = {},
): Promise<CrashReport> {
  const timeoutMs = options.runTimeoutMs ?? 5000;
  const report: CrashReport = {
    name: scenario.name,
    target: scenario.target,
    calls: [],
    runs: 0,
    crashes: 0,
    failures: [],
  };
  const attempt = async (point: CrashPoint | undefined) => {
    report.runs++;
    try {
      const r = await runOnce(scenario, point, timeoutMs);
      report.crashes += r.crashes;
      return r.trace;
    } catch (error) {
      report.failures.push({
        point,
        error: error instanceof Error ? (error.stack ?? error.message) : String(error),
      });
      return undefined;
    }
  };
  const baseline = await attempt(undefined);
  if (baseline === undefined) return report;
  report.calls = baseline.calls;
  for (let at = 0; at < baseline.calls.length; at++)
    for (const when of ['before', 'after'] as const) await attempt({ at, when });
  return report;
}

/** A readable summary of failures, for an assertion message. */
export function describeCrashReport(report: CrashReport): string {
  const lines = [
    `${report.name} (${report.target}): ${report.runs} runs, ${report.crashes} crashes, calls [${report.calls.join(', ')}]`,
  ];
  for (const f of report.failures) {
    const where =
      f.point === undefined
        ? 'without a crash'
        : `crash ${f.point.when} call ${f.point.at} (${report.calls[f.point.at] ?? '?'})`;
    lines.push(`  ${where}: ${f.error.split('\n').slice(0, 6).join('\n    ')}`);
  }
  return lines.join('\n');
}
