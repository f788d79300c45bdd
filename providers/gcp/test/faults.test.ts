// The fault-injection harness on the local GCP deployment (the CI slice): core's randomised runs —
// random concurrent operations from several clients, seeded faults in the functions' Datastore and
// Pub/Sub calls and in the clients' channel deliveries, function crashes at port calls, a vanished
// client and a healed partition — then the history must be linearizable and the stores consistent.
// Both invocation paths: pull (in-process pollers) and push (the real Cloud Functions path: HTTP
// functions invoked by the Pub/Sub emulator's ordered push subscriptions, the heartbeat POSTed on
// schedule as Cloud Scheduler would).
// On push a crashed invocation is answered 503 and the emulator pushes the message again about a
// second later whatever the retry policy says, holding up every later message of the ordering key
// meanwhile. With the clock moving 50 ms a step (~7× wall time) those stalls outlasted sessions
// and operation timeouts, and the clients' pings (the vanished client's every 0.7 s of clock) piled
// up in the writer's topic faster than crashes let it drain: runs never went idle. So the push runs
// step the clock 5 ms (a little slower than wall time) and crash at 4% of port calls, not 10%.
import { ManualClock, TransientError } from '@faaskeeper/core';
import {
  type DeploymentTarget,
  describeRun,
  interceptPort,
  type RandomRunResult,
  runRandomScenario,
} from '@faaskeeper/core/testkit';
import { describe, expect, it } from 'vitest';
import { localGcpTarget } from '../src/local/index.js';
import { whenEmulators } from './support.js';

const OPS = 40;

/** The checks every seeded run must pass, and proof that it did exercise faults, crashes and partitions. */
function expectSoundRun(result: RandomRunResult): void {
  console.log(describeRun(result));
  expect(result.problems).toEqual([]);
  expect(result.linearizability.ok).toBe(true);
  expect(result.operations).toBeGreaterThanOrEqual(OPS);
  // The run did exercise faults, crashes and contention, not a quiet happy path.
  const injected = Object.values(result.faults).reduce((a, b) => a + b, 0);
  expect(injected).toBeGreaterThan(10);
  expect(result.faults.transient + result.faults.timeoutAfterEffect).toBeGreaterThan(0);
  expect(result.faults.crash).toBeGreaterThan(0);
  expect(result.faults.partition).toBe(2); // the vanished client, and a healed partition
  // Every function runs on one clock here: skew is the one fault left out, and the run says so.
  expect(result.disabledFaults.map((d) => d.kind)).toEqual(['clockSkew']);
}

/** Seeded runs on `target`, tuned to its invocation path (see the header). */
function seededRuns(
  target: DeploymentTarget,
  tuning: { crashProbability: number; clockStepMs?: number; timeoutMs: number; testTimeoutMs: number },
): void {
  for (const seed of [1, 2]) {
    it(
      `seed ${seed}: the history is linearizable and the final state consistent`,
      async () => {
        const result = await runRandomScenario({
          seed,
          ops: OPS,
          clients: 3,
          target,
          crashProbability: tuning.crashProbability,
          ...(tuning.clockStepMs === undefined ? {} : { clockStepMs: tuning.clockStepMs }),
          timeoutMs: tuning.timeoutMs,
        });
        expectSoundRun(result);
      },
      tuning.testTimeoutMs,
    );
  }
}

whenEmulators((stack) => {
  const pull = localGcpTarget(stack, { invocation: 'pull' });
  describe(`randomised runs under injected faults on ${pull.name} (seeded)`, () => {
    seededRuns(pull, {
      crashProbability: 0.1,
      timeoutMs: pull.testTimeoutMs / 2,
      testTimeoutMs: pull.testTimeoutMs,
    });
  });

  const push = localGcpTarget(stack, { invocation: 'push' });
  describe(`randomised runs under injected faults on ${push.name} (seeded)`, () => {
    it(
      'a heartbeat run failing on an injected fault reports that fault, as on pull, not an HTTP 500',
      async () => {
        const clock = new ManualClock();
        let failing = false;
        const reported: { fn: string; error: unknown }[] = [];
        let scheduledFailed: () => void = () => {};
        const scheduledFailure = new Promise<void>((resolve) => {
          scheduledFailed = resolve;
        });
        const service = await push.deploy({
          clock,
          heartbeatIntervalMs: 1000,
          // The heartbeat's first call, a scan of the sessions, is throttled while `failing`.
          wrap: {
            systemStore: (s) =>
              interceptPort(s, ['list'], async (_method, _args, call) => {
                if (failing) throw new TransientError('injected throttling: systemStore.list');
                return call();
              }),
          },
          onFunctionError: (fn, error) => {
            reported.push({ fn, error });
            if (fn === 'heartbeat') scheduledFailed();
          },
        });
        try {
          failing = true;
          // Cloud Scheduler's tick: the failed run is reported once, with the function's own error.
          await clock.advance(1000);
          await scheduledFailure;
          // A run asked for now rejects with it too.
          await expect(service.heartbeat()).rejects.toBeInstanceOf(TransientError);
          failing = false;
          await service.heartbeat(); // the next run, fault-free, succeeds
        } finally {
          failing = false;
          await service.close();
        }
        expect(reported.length).toBeGreaterThan(0);
        for (const { fn, error } of reported) {
          expect(fn).toBe('heartbeat');
          expect(error).toBeInstanceOf(TransientError);
          expect(String(error)).toContain('injected throttling: systemStore.list');
        }
      },
      push.testTimeoutMs,
    );
    // ~10 crashes and 15–25 s a run here; each crash costs a second, so the guards leave room.
    seededRuns(push, { crashProbability: 0.04, clockStepMs: 5, timeoutMs: 75_000, testTimeoutMs: 150_000 });
  });
});
