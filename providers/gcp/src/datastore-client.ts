import { Datastore, type DatastoreOptions, type Key } from '@google-cloud/datastore';

/**
 * How an adapter gets its Datastore client: a ready one, or the config to make one (never both,
 * so that there is one obvious owner of the connection).
 */
export type DatastoreClientOption =
  | { datastore: Datastore; config?: never }
  | { config: DatastoreOptions; datastore?: never };

/** The client an adapter uses (made from `config` when no ready client was given). */
export function datastoreFrom(option: DatastoreClientOption): Datastore {
  return option.datastore ?? new Datastore(option.config);
}

/** Largest blob kept in one entity: Datastore allows 1,048,487 bytes for an unindexed blob and 1 MiB per entity. */
export const DATASTORE_CHUNK_BYTES = 1_000_000;

/** Splits bytes into entity-sized chunks (at least one, possibly empty). */
export function chunk(bytes: Buffer): Buffer[] {
  if (bytes.byteLength <= DATASTORE_CHUNK_BYTES) return [bytes];
  const out: Buffer[] = [];
  for (let at = 0; at < bytes.byteLength; at += DATASTORE_CHUNK_BYTES)
    out.push(bytes.subarray(at, at + DATASTORE_CHUNK_BYTES));
  return out;
}

/** The key at `path` in `namespace` (absent: the default namespace). */
export function namespacedKey(datastore: Datastore, namespace: string | undefined, path: string[]): Key {
  return datastore.key(namespace === undefined ? { path } : { namespace, path });
}

/** The name of an entity's key (adapters only use named keys). */
export function keyName(entity: object): string | undefined {
  const key = (entity as Record<symbol, { name?: string } | undefined>)[Datastore.KEY];
  return key?.name;
}

/** The kind of an entity's key. */
export function keyKind(entity: object): string | undefined {
  const key = (entity as Record<symbol, { kind?: string } | undefined>)[Datastore.KEY];
  return key?.kind;
}

/** The Buffer of a blob property (the library answers blobs as Buffers). */
export function blob(value: unknown): Buffer {
  if (Buffer.isBuffer(value)) return value;
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  if (typeof value === 'string') return Buffer.from(value, 'base64');
  return Buffer.alloc(0);
}

/** A Datastore integer property as a number (the library may answer large ones as objects). */
export function int(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'string') return Number(value);
  if (value !== null && typeof value === 'object' && 'value' in value)
    return Number((value as { value: unknown }).value);
  return 0;
}
