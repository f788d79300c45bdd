/**
 * Counts the billable requests an adapter makes (DESIGN.md §7). Keys are `service.operation`
 * (e.g. `dynamodb.write-units`, `s3.put`, `sqs.request`); values add up.
 */
export interface Meter {
  add(key: string, amount?: number): void;
}

/** A meter that keeps totals in memory. */
export class CountingMeter implements Meter {
  readonly totals = new Map<string, number>();
  add(key: string, amount = 1): void {
    this.totals.set(key, (this.totals.get(key) ?? 0) + amount);
  }
  snapshot(): Record<string, number> {
    return Object.fromEntries([...this.totals.entries()].sort(([a], [b]) => a.localeCompare(b)));
  }
  reset(): void {
    this.totals.clear();
  }
}

/** A meter that counts nothing. */
export const noMeter: Meter = { add() {} };
