import { describe, expect, it } from 'vitest';
import type { UserStore } from '../../src/index.js';
import {
  interceptPort,
  PORT_METHODS,
  runRandomScenario,
  STORM_FAULTS,
} from '../../src/testkit/faults/index.js';
import { parseSoakArgs, replayCommand, runSoak } from '../../src/testkit/soak.js';

// The CI slice: fixed seeds, ~100 operations each. `pnpm soak` runs many more.
const SEEDS = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
const OPS = 100;

describe('randomised runs under injected faults (seeded)', () => {
  for (const seed of SEEDS) {
    it(`seed ${seed}: the history is linearizable and the final state consistent (replay: pnpm soak --seeds 1 --ops ${OPS} --seed ${seed})`, async () => {
      const result = await runRandomScenario({ seed, ops: OPS });
      expect(result.problems).toEqual([]);
      expect(result.linearizability.ok).toBe(true);
      // The run did exercise faults and contention, not a quiet happy path.
      expect(result.operations).toBeGreaterThanOrEqual(OPS);
      const injected = Object.values(result.faults).reduce((a, b) => a + b, 0);
      expect(injected).toBeGreaterThan(10);
      expect(result.faults.partition).toBe(2); // the vanished client, and a healed partition
    });
  }

  for (const seed of [5, 20]) {
    it(`seed ${seed} in a fault storm (operations time out, their outcome settled by late replies): still linearizable and consistent`, async () => {
      const result = await runRandomScenario({
        seed,
        ops: OPS,
        faults: STORM_FAULTS,
        crashProbability: 0.03,
        operationTimeoutMs: 2000,
      });
      expect(result.problems).toEqual([]);
      // Wide windows of late-settled operations can (rarely) exhaust the search: never refuted is
      // the bar here; the fixed-seed runs above must be decided.
      expect(result.linearizability.ok).not.toBe(false);
    });
  }

  it('catches a broken adapter: a user store that never removes tombstones', async () => {
    const result = await runRandomScenario({
      seed: 1,
      ops: OPS,
      sabotage: {
        userStore: (inner: UserStore) =>
          interceptPort(inner, PORT_METHODS.userStore, async (method, _args, call) =>
            method === 'delete' ? undefined : call(),
          ),
      },
    });
    expect(result.ok).toBe(false);
    expect(result.problems.join('\n')).toContain('tombstone');
  });

  it('catches a broken adapter: a user store that loses every update of the root record', async () => {
    // Bootstrap's write of / goes through; every later one is dropped. The vanished client's
    // ephemeral node alone changes the root's children, so the lost writes always show.
    let rootPuts = 0;
    const result = await runRandomScenario({
      seed: 2,
      ops: OPS,
      sabotage: {
        userStore: (inner: UserStore) =>
          interceptPort(inner, PORT_METHODS.userStore, async (method, args, call) =>
            method === 'put' && args[0] === '/' && ++rootPuts > 1 ? undefined : call(),
          ),
      },
    });
    expect(result.ok).toBe(false);
    expect(result.problems.join('\n')).toContain('/: user-store');
  });

  it('soak: covers the seeds asked for, counts faults by kind and prints how to replay a seed', async () => {
    const options = parseSoakArgs(['--seeds', '2', '--ops', '30', '--seed', '7']);
    expect(options).toEqual({ seeds: 2, ops: 30, seed: 7, clients: 4, paths: 4 });
    expect(replayCommand(options, 8)).toBe('pnpm soak --seeds 1 --ops 30 --seed 8');
    const lines: string[] = [];
    const summary = await runSoak(options, (line) => lines.push(line));
    expect(summary.runs).toBe(2);
    expect(summary.failedSeeds).toEqual([]);
    expect(summary.operations).toBeGreaterThanOrEqual(60);
    expect(lines.join('\n')).toContain('injected faults:');
    expect(lines.join('\n')).toMatch(/splitBatch\s+\d+/);
    expect(() => parseSoakArgs(['--seeds', '0'])).toThrow(/--seeds/);
  });
});
