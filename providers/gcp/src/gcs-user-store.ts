import {
  type ChildEntry,
  childKey,
  type Meter,
  type NodeRecord,
  noMeter,
  PortError,
  PROTECTED_PREFIX,
  parseChildKey,
  parseMarker,
  TransientError,
  type UserStore,
  type Zone,
} from '@faaskeeper/core';
import {
  type Bucket,
  type GetFilesOptions,
  type GetFilesResponse,
  Storage,
  type StorageOptions,
} from '@google-cloud/storage';
import { decodeRecord, encodeRecord } from './record-codec.js';

/** Options of {@link GcsUserStore}: a ready bucket handle or a Storage client config (never both). */
export type GcsUserStoreOptions = (
  | { bucket: Bucket; config?: never }
  | { bucket: string; config: StorageOptions }
) & {
  /** Prefix of every object name (`<prefix>n/a/b` for node `/a/b`). Default none. */
  prefix?: string;
  /**
   * The bucket of the protected zone (records of nodes without world READ, and their child
   * entries), under the same names: a bucket of its own, which no client is granted (a prefix
   * cannot be: GCS IAM conditions on object names do not narrow listings). Absent: the same
   * bucket under `protected/` (tests, emulators).
   */
  protectedBucket?: Bucket;
  /** Where billable operations are counted (`gcs.class-a`, `gcs.class-b`, `gcs.free`). */
  meter?: Meter;
};

/**
 * The user store on Cloud Storage: one object per node record, named `<prefix>n<path>`, holding
 * `[u32 head length][head JSON][raw data]` (data kept raw: a 1 MiB node is one 1 MiB object).
 * An object is replaced whole by each upload, and GCS reads are strongly consistent, so a reader
 * never sees half a record. The watermark is the object `<prefix>meta/watermark`, and a session's
 * marker `<prefix>meta/owed/<session>`, outside the node names. Uploads are Class A operations, downloads Class B, deletes free.
 */
export class GcsUserStore implements UserStore {
  readonly bucket: Bucket;
  private readonly prefix: string;
  private readonly meter: Meter;
  /** Where each zone's objects are: a bucket and the prefix of their names. */
  private readonly zones: Record<Zone, { bucket: Bucket; prefix: string }>;

  constructor(options: GcsUserStoreOptions) {
    this.bucket =
      typeof options.bucket === 'string'
        ? new Storage(options.config).bucket(options.bucket)
        : options.bucket;
    this.prefix = options.prefix ?? '';
    this.meter = options.meter ?? noMeter;
    this.zones = {
      open: { bucket: this.bucket, prefix: this.prefix },
      protected:
        options.protectedBucket === undefined
          ? { bucket: this.bucket, prefix: `${PROTECTED_PREFIX}${this.prefix}` }
          : { bucket: options.protectedBucket, prefix: this.prefix },
    };
  }

  /** The bucket and object-name prefix of `zone`. */
  zone(zone: Zone = 'open'): { bucket: Bucket; prefix: string } {
    return this.zones[zone];
  }

  async get(path: string, zone?: Zone): Promise<NodeRecord | undefined> {
    const bytes = await this.download(this.nodeName(path, zone), this.zone(zone).bucket);
    return bytes === undefined ? undefined : decodeRecord(bytes);
  }

  async put(path: string, record: NodeRecord, zone?: Zone): Promise<void> {
    await this.upload(this.nodeName(path, zone), encodeRecord(record), this.zone(zone).bucket);
  }

  async delete(path: string, zone?: Zone): Promise<void> {
    try {
      await this.zone(zone).bucket.file(this.nodeName(path, zone)).delete({ ignoreNotFound: true });
      this.meter.add('gcs.free', 1);
    } catch (error) {
      throw translateGcsError(error, `delete ${path}`);
    }
  }

  async getWatermark(): Promise<number> {
    const bytes = await this.download(`${this.prefix}meta/watermark`);
    return bytes === undefined ? 0 : Number(bytes.toString('utf8'));
  }

  async putWatermark(zxid: number): Promise<void> {
    await this.upload(`${this.prefix}meta/watermark`, Buffer.from(String(zxid), 'utf8'));
  }

  async getMarker(session: number): Promise<number[] | undefined> {
    const bytes = await this.download(this.markerName(session));
    return bytes === undefined
      ? undefined
      : parseMarker(bytes.toString('utf8'), `GCS object of marker ${session}`);
  }

  async putMarker(session: number, events: readonly number[]): Promise<void> {
    if (events.length > 0) {
      await this.upload(this.markerName(session), Buffer.from(JSON.stringify(events), 'utf8'));
      return;
    }
    try {
      await this.bucket.file(this.markerName(session)).delete({ ignoreNotFound: true });
      this.meter.add('gcs.free', 1);
    } catch (error) {
      throw translateGcsError(error, `delete the marker of ${session}`);
    }
  }

  /** `<prefix>meta/owed/<session>`: beside the watermark, outside the node names. */
  private markerName(session: number): string {
    return `${this.prefix}meta/owed/${session}`;
  }

  async putChild(entry: ChildEntry, zone?: Zone): Promise<void> {
    // An empty object: the name is the content, so a listing alone gives the index.
    await this.upload(this.childName(entry, zone), Buffer.alloc(0), this.zone(zone).bucket);
  }

  async deleteChild(entry: ChildEntry, zone?: Zone): Promise<void> {
    try {
      await this.zone(zone).bucket.file(this.childName(entry, zone)).delete({ ignoreNotFound: true });
      this.meter.add('gcs.free', 1);
    } catch (error) {
      throw translateGcsError(error, `delete child ${entry.name} of ${entry.parent}`);
    }
  }

  async listChildren(parent: string, zone?: Zone): Promise<ChildEntry[]> {
    const under = this.childPrefix(parent, zone);
    const bucket = this.zone(zone).bucket;
    const entries: ChildEntry[] = [];
    let query: GetFilesOptions | null = {
      prefix: under,
      delimiter: '/',
      autoPaginate: false,
      maxResults: 1000,
    };
    while (query !== null) {
      const page: GetFilesResponse = await bucket.getFiles(query).catch((error: unknown) => {
        throw translateGcsError(error, `list children of ${parent}`);
      });
      // A listing is a Class A operation per page.
      this.meter.add('gcs.class-a', 1);
      for (const file of page[0]) {
        const entry = parseChildKey(parent, decodeURIComponent(file.name.slice(under.length)));
        if (entry === undefined) throw new PortError(`GCS object ${file.name} is not a child index entry`);
        entries.push(entry);
      }
      query = (page[1] as GetFilesOptions | null | undefined) ?? null;
    }
    return entries;
  }

  /**
   * Where a node's child index lives: `<prefix>k<parent>/` (`/` → `<prefix>k/`); each entry is an
   * empty object named by the URI-encoded `<name>@<czxid>[~<dzxid>]`, with no `/` in it, so a
   * listing with the `/` delimiter leaves out the entries of deeper descendants.
   */
  private childPrefix(parent: string, zone?: Zone): string {
    return `${this.zone(zone).prefix}k${parent === '/' ? '' : parent}/`;
  }

  private childName(entry: ChildEntry, zone?: Zone): string {
    return `${this.childPrefix(entry.parent, zone)}${encodeURIComponent(childKey(entry))}`;
  }

  private nodeName(path: string, zone?: Zone): string {
    return `${this.zone(zone).prefix}n${path}`;
  }

  private async download(name: string, bucket: Bucket = this.bucket): Promise<Buffer | undefined> {
    try {
      const [bytes] = await bucket.file(name).download({ validation: false });
      this.meter.add('gcs.class-b', 1);
      return bytes;
    } catch (error) {
      this.meter.add('gcs.class-b', 1);
      if (httpStatus(error) === 404) return undefined;
      throw translateGcsError(error, `read ${name}`);
    }
  }

  private async upload(name: string, bytes: Buffer, bucket: Bucket = this.bucket): Promise<void> {
    try {
      await bucket
        .file(name)
        .save(bytes, { resumable: false, validation: false, contentType: 'application/octet-stream' });
      this.meter.add('gcs.class-a', 1);
    } catch (error) {
      throw translateGcsError(error, `write ${name}`);
    }
  }
}

function httpStatus(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

/** 429, 408 and 5xx are worth retrying (GCS's own retry guidance); anything else is not. */
function translateGcsError(error: unknown, what: string): PortError {
  const status = httpStatus(error);
  const detail = error instanceof Error ? error.message : String(error);
  const transient =
    status === 408 ||
    status === 429 ||
    (status !== undefined && status >= 500) ||
    /ECONNRESET|ECONNREFUSED|ETIMEDOUT|EPIPE|socket hang up/.test(detail);
  return transient
    ? new TransientError(`${what}: ${detail}`, error)
    : new PortError(`${what}: ${detail}`, { cause: error });
}
