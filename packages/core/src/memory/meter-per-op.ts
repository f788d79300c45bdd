// Measuring helpers of the cost tools (`faaskeeper cost --measure`) and the cost tests: production code
// may import them, so they live beside the in-memory adapters, not in the testkit.
import type { CountingMeter } from '../ports/meter.js';

/**
 * Waits until `meter` has stopped moving for `quietMs` of real time (at most `maxMs`): an
 * operation's tail (acknowledgements, deletions, a bookkeeping write after the reply) must land in
 * its own row even on a loaded machine.
 */
export async function quietMeter(meter: CountingMeter, quietMs = 300, maxMs = 15_000): Promise<void> {
  let last = JSON.stringify(meter.snapshot());
  for (let quiet = 0, waited = 0; quiet < quietMs && waited < maxMs; waited += 50) {
    await new Promise((r) => setTimeout(r, 50));
    const now = JSON.stringify(meter.snapshot());
    quiet = now === last ? quiet + 50 : 0;
    last = now;
  }
}

/**
 * What one operation costs on the meter: runs `op` `runs` times (after earlier work has settled)
 * and returns each meter key's total divided by `runs`, rounded to 6 decimals.
 */
export async function meterPerOperation(
  meter: CountingMeter,
  runs: number,
  op: (i: number) => Promise<unknown>,
  /** `concurrent`: all runs at once (writes that reach the writer in batches), else one after another. */
  mode: 'sequential' | 'concurrent' = 'sequential',
): Promise<Record<string, number>> {
  await quietMeter(meter);
  meter.reset();
  if (mode === 'concurrent') await Promise.all(Array.from({ length: runs }, (_, i) => op(i)));
  else for (let i = 0; i < runs; i++) await op(i);
  await quietMeter(meter);
  const out: Record<string, number> = {};
  for (const [key, total] of Object.entries(meter.snapshot()))
    out[key] = Math.round((total / runs) * 1_000_000) / 1_000_000;
  return out;
}
