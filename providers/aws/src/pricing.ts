import { METER_KEYS } from './meter.js';

/**
 * AWS list prices (USD, us-east-1, on-demand, no free tier) for what the meter counts. Dated:
 * prices change; update `asOf` with them.
 */
export const AWS_PRICES = {
  asOf: '2025-06-01',
  region: 'us-east-1',
  /** USD per unit of each meter key. */
  perUnit: {
    // DynamoDB on-demand (after the November 2024 price cut): $0.625 per million WRU, $0.125 per million RRU.
    [METER_KEYS.dynamodbWriteUnits]: 0.625 / 1e6,
    [METER_KEYS.dynamodbReadUnits]: 0.125 / 1e6,
    // S3 Standard: PUT/COPY/POST/LIST $0.005 per 1,000; GET/HEAD $0.0004 per 1,000; DELETE free.
    [METER_KEYS.s3Put]: 0.005 / 1e3,
    [METER_KEYS.s3Get]: 0.0004 / 1e3,
    [METER_KEYS.s3Delete]: 0,
    // SQS FIFO: $0.50 per million requests (each 64 KiB chunk of a request counts as one).
    [METER_KEYS.sqsRequest]: 0.5 / 1e6,
    // Lambda (x86): $0.20 per million requests, $0.0000166667 per GB-second.
    [METER_KEYS.lambdaInvocation]: 0.2 / 1e6,
    [METER_KEYS.lambdaGbSeconds]: 0.0000166667,
  } as Record<string, number>,
} as const;

/** Dollars of a meter snapshot at {@link AWS_PRICES}; keys without a price count 0 and are listed. */
export function dollarsOf(snapshot: Record<string, number>): {
  total: number;
  byKey: Record<string, number>;
  unpriced: string[];
} {
  const byKey: Record<string, number> = {};
  const unpriced: string[] = [];
  let total = 0;
  for (const [key, amount] of Object.entries(snapshot)) {
    const price = AWS_PRICES.perUnit[key];
    if (price === undefined) {
      unpriced.push(key);
      continue;
    }
    byKey[key] = amount * price;
    total += amount * price;
  }
  return { total, byKey, unpriced };
}
