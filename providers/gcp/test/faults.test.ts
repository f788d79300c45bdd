// The fault-injection harness on the local GCP deployment (the CI slice): core's randomised runs —
// random concurrent operations from several clients, seeded faults in the functions' Datastore and
// Pub/Sub calls and in the clients' channel deliveries, function crashes at port calls, a vanished
// client and a healed partition — then the history must be linearizable and the stores consistent.
// Pull invocation only for now: on push, a heartbeat whose port call fails comes back as an HTTP
// 500 (reported as an unexpected function error), and crashed invocations are pushed again too
// slowly for a run to finish within its budget.
import { type RandomRunResult, runRandomScenario } from '@faaskeeper/core/testkit';
import { describe, expect, it } from 'vitest';
import { localGcpTarget } from '../src/local/target.js';
import { whenEmulators } from './support.js';

/** One line per run: what it covered (the figures a reviewer compares between runs). */
function summary(result: RandomRunResult): string {
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

const OPS = 40;

whenEmulators((stack) => {
  const pull = localGcpTarget(stack, { invocation: 'pull' });
  describe(`randomised runs under injected faults on ${pull.name} (seeded)`, () => {
    for (const seed of [1, 2]) {
      it(
        `seed ${seed}: the history is linearizable and the final state consistent`,
        async () => {
          const result = await runRandomScenario({
            seed,
            ops: OPS,
            clients: 3,
            target: pull,
            crashProbability: 0.1,
            timeoutMs: pull.testTimeoutMs / 2,
          });
          console.log(summary(result));
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
        },
        pull.testTimeoutMs,
      );
    }
  });
});
