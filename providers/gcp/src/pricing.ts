import { FUNCTION_METER_KEYS } from './functions/handlers.js';

/**
 * Public list prices of the GCP services FaaSKeeper bills against, in USD, for turning a
 * {@link Meter} snapshot into dollars. Free tiers are ignored. Prices change: check the pages
 * before relying on the figures, and update `date` with them.
 *
 * - Firestore in Datastore mode, `nam5` (United States) multi-region: entity reads, writes, deletes.
 * - Cloud Storage Standard: Class A / Class B operations.
 * - Pub/Sub: message delivery throughput (publish and subscribe are each billed, 1000 bytes minimum
 *   per request).
 * - Cloud Run functions (2nd gen) are billed as Cloud Run services with request-based billing
 *   ("CPU only allocated during request processing"), Tier 1 regions, https://cloud.google.com/run/pricing:
 *   $0.40 per million requests, $0.000024 per vCPU-second, $0.0000025 per GiB-second, each
 *   instance's billable time rounded up to the nearest 100 ms. Read on 2026-11-24 (stored copy of
 *   the page); the storage, Datastore and Pub/Sub figures are the 2024 list prices.
 */
export const GCP_PRICES = {
  date: '2026-11-24',
  /** Per entity (document) read, write and delete. */
  datastoreRead: 0.06 / 100_000,
  datastoreWrite: 0.18 / 100_000,
  datastoreDelete: 0.02 / 100_000,
  /** Per byte of Pub/Sub throughput ($40 per TiB); publish and delivery are each billed. */
  pubsubByte: 40 / 2 ** 40,
  /** Cloud Storage (Standard) per Class A (upload, list) and Class B (download) operation; deletes are free. */
  gcsClassA: 0.005 / 1000,
  gcsClassB: 0.0004 / 1000,
  /** Per function invocation (Cloud Run request): $0.40 per million. */
  functionInvocation: 0.4 / 1_000_000,
  /** Per vCPU-second of billed function time (Cloud Run Tier 1, request-based billing). */
  functionVcpuSecond: 0.000024,
  /** Per GiB-second of billed function time (Cloud Run Tier 1, request-based billing). */
  functionGibSecond: 0.0000025,
} as const;

/** Dollars of a meter snapshot (keys as the GCP adapters and functions count them). */
export function gcpCost(totals: Record<string, number>): number {
  return gcpCostOf(totals).total;
}

/** Dollars of a meter snapshot split into the functions' compute (vCPU and memory) and the rest. */
export function gcpCostOf(totals: Record<string, number>): { total: number; compute: number } {
  const n = (key: string) => totals[key] ?? 0;
  const compute =
    n(FUNCTION_METER_KEYS.vcpuSeconds) * GCP_PRICES.functionVcpuSecond +
    n(FUNCTION_METER_KEYS.gibSeconds) * GCP_PRICES.functionGibSecond;
  const operations =
    n('datastore.entity-reads') * GCP_PRICES.datastoreRead +
    n('datastore.entity-writes') * GCP_PRICES.datastoreWrite +
    n('datastore.entity-deletes') * GCP_PRICES.datastoreDelete +
    (n('pubsub.publish-bytes') + n('pubsub.subscribe-bytes')) * GCP_PRICES.pubsubByte +
    n('gcs.class-a') * GCP_PRICES.gcsClassA +
    n('gcs.class-b') * GCP_PRICES.gcsClassB +
    n(FUNCTION_METER_KEYS.invocations) * GCP_PRICES.functionInvocation;
  return { total: operations + compute, compute };
}
