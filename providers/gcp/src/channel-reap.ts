/**
 * The channels a session leaves behind, remembered until the heartbeat reaps them
 * (docs/providers/gcp.md "Channel permissions": *channel distributor*).
 *
 * At a session's end the distributor deletes its secret channel's topic but keeps the
 * subscription, detached, so that the client can still read the close reply or the EXPIRED notice;
 * a refused resume's bootstrap channel is kept whole for the same reason. No client may delete
 * either (that permission would reach the deployment's fixed subscriptions), so the functions do,
 * once the client has had time to read: each such channel gets one small record here when it is
 * left, and the heartbeat's run asks for those whose grace has passed (one keys-only query, served
 * by Datastore's built-in index on `at`), deletes their subscription and topic, then the records.
 * A live session's channel never has a record.
 */
import { type Meter, mapLimit, noMeter } from '@faaskeeper/core';
import { type Datastore, type Key, PropertyFilter } from '@google-cloud/datastore';
import { keyName, namespacedKey } from './datastore-client.js';
import { guard } from './errors.js';

/** Options of {@link ChannelReapRecords}. */
export interface ChannelReapRecordsOptions {
  datastore: Datastore;
  /** The deployment's Datastore namespace (the system store's). Default: the default namespace. */
  namespace?: string;
  /** Prefix of the record kind (`<prefix>reap`). Default `fk_`, the system store's. */
  kindPrefix?: string;
  /** Where billable operations are counted (`datastore.entity-reads`, `-writes`, `-deletes`). */
  meter?: Meter;
}

/**
 * Default grace of a left channel: 10 minutes, 60 of a client's 10 s long polls (a listening
 * client reads its last messages within one) and 15 times ZooKeeper's largest default session
 * timeout (40 s), so that a client that lost touch for a session timeout still finds its EXPIRED
 * notice. With the heartbeat's minute, a channel goes 10–11 minutes after it was left.
 */
export const DEFAULT_CHANNEL_GRACE_MS = 600_000;

/**
 * Most left channels one heartbeat run reaps (two Pub/Sub admin calls each, 8 at a time): 200 a
 * minute, 288,000 a day. More left in a minute wait for the next runs.
 */
export const MAX_REAPS_PER_RUN = 200;
const REAP_CONCURRENCY = 8;

/** Records of left channels, by channel name, each with the time it was left (`at`, ms). */
export class ChannelReapRecords {
  private readonly datastore: Datastore;
  private readonly namespace: string | undefined;
  private readonly kind: string;
  private readonly meter: Meter;

  constructor(options: ChannelReapRecordsOptions) {
    this.datastore = options.datastore;
    this.namespace = options.namespace;
    this.kind = `${options.kindPrefix ?? 'fk_'}reap`;
    this.meter = options.meter ?? noMeter;
  }

  /**
   * Remembers that channel `name` was left at `at`. A second call (a redelivered batch) moves `at`
   * later, which only delays the reaping.
   */
  async mark(name: string, at: number): Promise<void> {
    await guard(`remember channel ${name} for reaping`, () =>
      this.datastore.upsert({ key: this.key(name), data: { at } }),
    );
    this.meter.add('datastore.entity-writes', 1);
  }

  /**
   * Deletes (`remove`) the channels left at or before `before`, oldest first, at most
   * {@link MAX_REAPS_PER_RUN}, {@link REAP_CONCURRENCY} at a time, then forgets their records in one
   * commit (200 keys, within Datastore's 500); a failure keeps every record for the next run (the
   * deletes are idempotent).
   */
  async reap(before: number, remove: (name: string) => Promise<void>): Promise<void> {
    const query = this.datastore
      .createQuery(this.namespace ?? '', this.kind)
      .filter(new PropertyFilter('at', '<=', before))
      .order('at')
      .select('__key__')
      .limit(MAX_REAPS_PER_RUN);
    const [entities] = (await guard('list channels to reap', () => this.datastore.runQuery(query))) as [
      object[],
      unknown,
    ];
    // A keys-only query bills one read for the query; its keys are free small operations.
    this.meter.add('datastore.entity-reads', 1);
    const due = entities.map(keyName).filter((n): n is string => n !== undefined);
    if (due.length === 0) return;
    await mapLimit(due, REAP_CONCURRENCY, remove);
    await guard('forget reaped channels', () => this.datastore.delete(due.map((n) => this.key(n))));
    this.meter.add('datastore.entity-deletes', due.length);
  }

  private key(name: string): Key {
    return namespacedKey(this.datastore, this.namespace, [this.kind, name]);
  }
}
