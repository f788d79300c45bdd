import { randomBytes } from 'node:crypto';
import {
  type ChildEntry,
  type Clock,
  childKey,
  type Meter,
  type NodeRecord,
  noMeter,
  PortError,
  parseChildKey,
  parseMarker,
  retry,
  systemClock,
  TransientError,
  type UserStore,
  type Zone,
} from '@faaskeeper/core';
import type { Datastore, Key } from '@google-cloud/datastore';
import {
  blob,
  chunk,
  type DatastoreClientOption,
  datastoreFrom,
  int,
  keyName,
  namespacedKey,
} from './datastore-client.js';
import { GCP_BACKOFF, guard } from './errors.js';
import { decodeRecord, encodeRecord } from './record-codec.js';

/** Options of {@link DatastoreUserStore}. */
export type DatastoreUserStoreOptions = DatastoreClientOption & {
  /** Datastore namespace of this deployment. Default: the default namespace. */
  namespace?: string;
  /** Prefix of the entity kinds (`<prefix>record`, `<prefix>record_chunk`, `<prefix>watermark`, `<prefix>owed`). Default `fk_`. */
  kindPrefix?: string;
  /**
   * Where the protected zone lives instead of this database's `protected_` kinds: a store (its
   * open zone) that clients are granted nothing on, e.g. a {@link GcsUserStore} on a bucket of its
   * own. Datastore IAM cannot keep the client's read role off some kinds, so a deployment needs it.
   */
  protectedZone?: UserStore;
  /** Where billable operations are counted (`datastore.entity-reads`, `-writes`, `-deletes`). */
  meter?: Meter;
  /** Clock the re-reads of a record changing under the read wait on. Default the system clock. */
  clock?: Clock;
};

/** A record's main entity and chunks came from different puts (one landed between the lookups). */
class Torn extends Error {}

const WATERMARK = 'watermark';

/**
 * The user store on Cloud Datastore: one entity per node record, named by its path, holding the
 * record as `[u32 head length][head JSON][raw data]` (data kept raw, not base64: a 1 KiB node is
 * one small entity). Records above one entity's size (1 MiB of data and a head) spill into one
 * chunk entity; main and chunks carry the same random generation, and a reader that finds them
 * from different puts reads again, so it never returns a mix of two records. Lookups by key are
 * strongly consistent. The watermark lives in its own kind, so it is never seen as a node, and so do the sessions'
 * markers (kind `owed`, named by the session id).
 *
 * The protected zone (records of nodes without world READ, their child entries) is kinds of its own,
 * `<prefix>protected_record`, `_record_chunk`, `_kids`, `_child`, unless `protectedZone` names
 * another store. Datastore IAM cannot narrow a role to some kinds, so a client holding
 * `roles/datastore.viewer` on the database could read those kinds: a deployment
 * (`faaskeeper deploy gcp`) keeps the protected zone in a Cloud Storage bucket no client is granted.
 *
 * Gap: a put or delete does not remove the chunk entity of an earlier record above 1 MB at the
 * same path (finding it would cost a read on every write); it is overwritten by the next big record
 * there.
 */
export class DatastoreUserStore implements UserStore {
  readonly datastore: Datastore;
  private readonly namespace: string | undefined;
  private readonly prefix: string;
  private readonly meter: Meter;
  private readonly clock: Clock;
  /** The protected zone when it is another store (see {@link DatastoreUserStoreOptions}). */
  private readonly elsewhere: UserStore | undefined;

  constructor(options: DatastoreUserStoreOptions) {
    this.datastore = datastoreFrom(options);
    this.namespace = options.namespace;
    this.prefix = options.kindPrefix ?? 'fk_';
    this.meter = options.meter ?? noMeter;
    this.clock = options.clock ?? systemClock;
    this.elsewhere = options.protectedZone;
  }

  /** The store that holds `zone` when it is not this database. */
  private away(zone: Zone | undefined): UserStore | undefined {
    return zone === 'protected' ? this.elsewhere : undefined;
  }

  /** The kind of `kind` in `zone`: the protected zone's kinds are `<prefix>protected_<kind>`. */
  private zoneKind(kind: string, zone: Zone = 'open'): string {
    return zone === 'open' ? kind : `protected_${kind}`;
  }

  async get(path: string, zone?: Zone): Promise<NodeRecord | undefined> {
    const away = this.away(zone);
    if (away !== undefined) return away.get(path);
    // A put between our two lookups leaves parts of two generations: read again, with back-off on
    // the store's clock, 9 reads in all. The lookups' own failures are the library's to retry.
    try {
      return await retry(
        async () => {
          const [main] = await this.lookup([this.key(this.zoneKind('record', zone), path)]);
          if (main === undefined) return undefined;
          const chunks = int(main.c);
          const parts = [blob(main.d)];
          if (chunks > 0) {
            const found = await this.lookup(this.chunkKeys(path, chunks, zone));
            const byName = new Map(found.map((e) => [keyName(e), e]));
            for (let i = 1; i <= chunks; i++) {
              const e = byName.get(`${path}#${i}`);
              if (e === undefined || e.g !== main.g) throw new Torn();
              parts.push(blob(e.d));
            }
          }
          return decodeRecord(Buffer.concat(parts));
        },
        {
          clock: this.clock,
          isTransient: (error) => error instanceof Torn,
          maxAttempts: 9,
          backoff: GCP_BACKOFF,
        },
      );
    } catch (error) {
      if (error instanceof Torn) throw new TransientError(`record ${path} kept changing while read`);
      throw error;
    }
  }

  async put(path: string, record: NodeRecord, zone?: Zone): Promise<void> {
    const away = this.away(zone);
    if (away !== undefined) return away.put(path, record);
    const parts = chunk(encodeRecord(record));
    const generation = parts.length > 1 ? randomBytes(8).toString('hex') : undefined;
    const entities = parts.map((d, i) =>
      i === 0
        ? {
            key: this.key(this.zoneKind('record', zone), path),
            data: generation === undefined ? { c: 0, d } : { c: parts.length - 1, g: generation, d },
            excludeFromIndexes: ['d', 'g', 'c'],
          }
        : {
            key: this.key(this.zoneKind('record_chunk', zone), `${path}#${i}`),
            data: { g: generation, d },
            excludeFromIndexes: ['d', 'g'],
          },
    );
    await guard(`put ${path}`, () => this.datastore.upsert(entities));
    this.meter.add('datastore.entity-writes', entities.length);
  }

  async delete(path: string, zone?: Zone): Promise<void> {
    const away = this.away(zone);
    if (away !== undefined) return away.delete(path);
    await guard(`delete ${path}`, () => this.datastore.delete(this.key(this.zoneKind('record', zone), path)));
    this.meter.add('datastore.entity-deletes', 1);
  }

  async getWatermark(): Promise<number> {
    const [entity] = await this.lookup([this.key('watermark', WATERMARK)]);
    return entity === undefined ? 0 : int(entity.z);
  }

  async putWatermark(zxid: number): Promise<void> {
    await guard('put watermark', () =>
      this.datastore.upsert({
        key: this.key('watermark', WATERMARK),
        data: { z: zxid },
        excludeFromIndexes: ['z'],
      }),
    );
    this.meter.add('datastore.entity-writes', 1);
  }

  async getMarker(session: number): Promise<number[] | undefined> {
    const [entity] = await this.lookup([this.key('owed', String(session))]);
    return entity === undefined ? undefined : parseMarker(String(entity.e), `Datastore marker of ${session}`);
  }

  async putMarker(session: number, events: readonly number[]): Promise<void> {
    const key = this.key('owed', String(session));
    if (events.length === 0) {
      await guard(`delete the marker of ${session}`, () => this.datastore.delete(key));
      this.meter.add('datastore.entity-deletes', 1);
      return;
    }
    await guard(`put the marker of ${session}`, () =>
      this.datastore.upsert({ key, data: { e: JSON.stringify(events) }, excludeFromIndexes: ['e'] }),
    );
    this.meter.add('datastore.entity-writes', 1);
  }

  async putChild(entry: ChildEntry, zone?: Zone): Promise<void> {
    const away = this.away(zone);
    if (away !== undefined) return away.putChild(entry);
    await guard(`put child ${entry.name} of ${entry.parent}`, () =>
      this.datastore.upsert({ key: this.childEntityKey(entry, zone), data: {} }),
    );
    this.meter.add('datastore.entity-writes', 1);
  }

  async deleteChild(entry: ChildEntry, zone?: Zone): Promise<void> {
    const away = this.away(zone);
    if (away !== undefined) return away.deleteChild(entry);
    await guard(`delete child ${entry.name} of ${entry.parent}`, () =>
      this.datastore.delete(this.childEntityKey(entry, zone)),
    );
    this.meter.add('datastore.entity-deletes', 1);
  }

  async listChildren(parent: string, zone?: Zone): Promise<ChildEntry[]> {
    const away = this.away(zone);
    if (away !== undefined) return away.listChildren(parent);
    // An ancestor query is strongly consistent; keys only (the key is the content), all pages.
    const query = this.datastore
      .createQuery(this.namespace ?? '', `${this.prefix}${this.zoneKind('child', zone)}`)
      .hasAncestor(this.key(this.zoneKind('kids', zone), parent))
      .select('__key__');
    // A strongly consistent ancestor query contends with the distributor's writes to the same
    // entity group, and Datastore aborts it (ABORTED, "too much contention"): a transient error,
    // retried with the store's back-off, 9 attempts in all.
    const [entities] = (await retry(
      () => guard(`list children of ${parent}`, () => this.datastore.runQuery(query)),
      {
        clock: this.clock,
        isTransient: (error) => error instanceof TransientError,
        maxAttempts: 9,
        backoff: GCP_BACKOFF,
      },
    )) as [Record<string, unknown>[], unknown];
    // A keys-only query is billed as one entity read, whatever it returns.
    this.meter.add('datastore.entity-reads', 1);
    return entities.map((e) => {
      const key = keyName(e) ?? '';
      const entry = parseChildKey(parent, key);
      if (entry === undefined) throw new PortError(`child index entity ${parent} ${key} is not an entry`);
      return entry;
    });
  }

  /** A child index entry: kind `<prefix>child`, named by its key, under the ancestor `<prefix>kids`/parent. */
  private childEntityKey(entry: ChildEntry, zone?: Zone): Key {
    const path = [
      `${this.prefix}${this.zoneKind('kids', zone)}`,
      entry.parent,
      `${this.prefix}${this.zoneKind('child', zone)}`,
      childKey(entry),
    ];
    return namespacedKey(this.datastore, this.namespace, path);
  }

  private async lookup(keys: Key[]): Promise<Record<string, unknown>[]> {
    const [entities] = (await guard('lookup', () => this.datastore.get(keys))) as [Record<string, unknown>[]];
    this.meter.add('datastore.entity-reads', keys.length);
    return entities.filter((e) => e !== undefined);
  }

  private chunkKeys(path: string, chunks: number, zone?: Zone): Key[] {
    return Array.from({ length: chunks }, (_, i) =>
      this.key(this.zoneKind('record_chunk', zone), `${path}#${i + 1}`),
    );
  }

  private key(kind: string, name: string): Key {
    const path = [`${this.prefix}${kind}`, name];
    return namespacedKey(this.datastore, this.namespace, path);
  }
}
