// The fault-injection harness on the local AWS deployment (the CI slice): core's randomised runs —
// random concurrent operations from several clients, seeded faults in the functions' DynamoDB, S3
// and SQS calls and in the clients' channel deliveries, function crashes at port calls, a vanished
// client and a healed partition — then the history must be linearizable and the stores consistent.
// Every function runs on one clock here, so clock skew is left out; the runs print what they did.
import {
  brokenUserStores,
  type DeploymentTarget,
  describeRun,
  runRandomScenario,
  STORM_FAULTS,
} from '@faaskeeper/core/testkit';
import { describe, expect, it } from 'vitest';
import { localAwsTarget } from '../src/local/index.js';
import { requireLocalStack, useLocalStack } from './support.js';

const stack = useLocalStack();

// Each run on a fresh deployment (its own tables, bucket and queues) on this file's stack.
const awsTarget = localAwsTarget(async () => (await stack()).stack);

const SEEDS = [1, 2, 3];
const OPS = 40;

/**
 * `target` on which a randomised run's clock stands still while the run sets up: `settle` (the
 * pace of the run's clock) waits until `clients` clients and the vanished one have connected and
 * the vanished one has created its node (or failed to). The setup runs before any fault is
 * enabled and is not what a run tests; with 1 s operation timeouts on a clock that runs several
 * times faster than wall time, a connect on a loaded machine timed out and the run failed with no
 * operation run.
 */
function stillClockWhileSettingUp(target: DeploymentTarget, clients: number): DeploymentTarget {
  let setUp: () => void = () => {};
  const ready = new Promise<void>((resolve) => {
    setUp = resolve;
  });
  return {
    ...target,
    deploy: async (options) => {
      const service = await target.deploy(options);
      let connects = 0;
      return {
        ...service,
        connect: async (connectOptions) => {
          const vanishing = ++connects === clients + 1;
          const client = await service.connect(connectOptions).catch((error: unknown) => {
            setUp();
            throw error;
          });
          if (vanishing) {
            // Its first operation, the ephemeral node, ends the setup.
            const create = client.create.bind(client);
            client.create = (...args) => {
              client.create = create;
              const created = create(...args);
              created.then(setUp, setUp);
              return created;
            };
          }
          return client;
        },
        partition: (c) => service.partition(c),
        heal: (c) => service.heal(c),
        close: () => service.close(),
      };
    },
    settle: async () => {
      await ready;
      await target.settle();
    },
  };
}

describe('randomised runs under injected faults on the local AWS deployment (seeded)', () => {
  for (const seed of SEEDS) {
    it(
      `seed ${seed}: the history is linearizable and the final state consistent`,
      async (ctx) => {
        if (!requireLocalStack(ctx)) return;
        const result = await runRandomScenario({
          seed,
          ops: OPS,
          clients: 3,
          target: awsTarget,
          crashProbability: 0.1,
          timeoutMs: awsTarget.testTimeoutMs / 2,
        });
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
        // Every function runs on one clock here: skew is left out, and the run says so.
        expect(result.disabledFaults.map((d) => d.kind)).toEqual(['clockSkew']);
      },
      awsTarget.testTimeoutMs,
    );
  }

  it(
    'seed 5 in a fault storm (about three times the faults, more crashes, 1 s operation timeouts): still linearizable and consistent',
    async (ctx) => {
      if (!requireLocalStack(ctx)) return;
      const result = await runRandomScenario({
        seed: 5,
        ops: OPS,
        clients: 3,
        target: stillClockWhileSettingUp(awsTarget, 3),
        faults: STORM_FAULTS,
        crashProbability: 0.1,
        operationTimeoutMs: 1000,
        timeoutMs: awsTarget.testTimeoutMs / 2,
      });
      console.log(describeRun(result));
      expect(result.problems).toEqual([]);
      // Wide windows of late-settled operations can (rarely) exhaust the search: never refuted is
      // the bar here, as in core's storm runs.
      expect(result.linearizability.ok).not.toBe(false);
    },
    awsTarget.testTimeoutMs,
  );

  it(
    'catches a broken adapter: an S3 user store that never removes tombstones',
    async (ctx) => {
      if (!requireLocalStack(ctx)) return;
      const result = await runRandomScenario({
        seed: 1,
        ops: OPS,
        clients: 3,
        target: awsTarget,
        timeoutMs: awsTarget.testTimeoutMs / 2,
        sabotage: brokenUserStores.keepsTombstones(),
      });
      expect(result.ok).toBe(false);
      expect(result.problems.join('\n')).toContain('tombstone');
    },
    awsTarget.testTimeoutMs,
  );

  it(
    'catches a broken adapter: an S3 user store that loses every update of the root record',
    async (ctx) => {
      if (!requireLocalStack(ctx)) return;
      const result = await runRandomScenario({
        seed: 2,
        ops: 20,
        clients: 3,
        target: awsTarget,
        timeoutMs: awsTarget.testTimeoutMs / 2,
        sabotage: brokenUserStores.losesRootUpdates(),
      });
      expect(result.ok).toBe(false);
      // A create under / closes its distribution with /'s record: lost, the store never becomes
      // visible up to the writer's zxid, which is what the idle wait reports.
      expect(result.problems.join('\n')).toMatch(/did not become idle .*watermark \d+, writer zxid \d+/);
    },
    awsTarget.testTimeoutMs,
  );
});
