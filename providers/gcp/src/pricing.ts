/**
 * Public list prices of the GCP services FaaSKeeper bills against, in USD, for turning a
 * {@link Meter} snapshot into dollars. Firestore in Datastore mode at the `nam5` (United States)
 * multi-region; Cloud Storage Standard operations; Pub/Sub message delivery throughput; Cloud Run functions (2nd gen) invocations.
 * Free tiers are ignored. As listed on Google's pricing pages in 2024; check them before relying
 * on the figures.
 */
export const GCP_PRICES = {
  date: '2024',
  /** Per entity (document) read, write and delete. */
  datastoreRead: 0.06 / 100_000,
  datastoreWrite: 0.18 / 100_000,
  datastoreDelete: 0.02 / 100_000,
  /** Per byte of Pub/Sub throughput ($40 per TiB); publish and delivery are each billed. */
  pubsubByte: 40 / 2 ** 40,
  /** Cloud Storage (Standard) per Class A (upload, list) and Class B (download) operation; deletes are free. */
  gcsClassA: 0.005 / 1000,
  gcsClassB: 0.0004 / 1000,
  /** Per function invocation. */
  functionInvocation: 0.4 / 1_000_000,
} as const;

/** Dollars of a meter snapshot (keys as the GCP adapters count them). */
export function gcpCost(totals: Record<string, number>): number {
  const n = (key: string) => totals[key] ?? 0;
  return (
    n('datastore.entity-reads') * GCP_PRICES.datastoreRead +
    n('datastore.entity-writes') * GCP_PRICES.datastoreWrite +
    n('datastore.entity-deletes') * GCP_PRICES.datastoreDelete +
    (n('pubsub.publish-bytes') + n('pubsub.subscribe-bytes')) * GCP_PRICES.pubsubByte +
    n('gcs.class-a') * GCP_PRICES.gcsClassA +
    n('gcs.class-b') * GCP_PRICES.gcsClassB +
    n('functions.invocations') * GCP_PRICES.functionInvocation
  );
}
