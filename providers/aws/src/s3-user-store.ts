import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import {
  type ChildEntry,
  childKey,
  decodeMessage,
  encodeMessage,
  type Meter,
  type NodeRecord,
  noMeter,
  PortError,
  PROTECTED_PREFIX,
  parseChildKey,
  parseMarker,
  readNodeRecord,
  type UserStore,
  type Zone,
} from '@faaskeeper/core';
import { type ClientOrConfig, s3ClientOf } from './aws-clients.js';
import { awsCall, awsErrorName, translateAwsError } from './aws-errors.js';
import { METER_KEYS } from './meter.js';

/** Options of {@link S3UserStore}: a bucket (and key prefix), and a ready client or its config. */
export type S3UserStoreOptions = ClientOrConfig<S3Client, S3ClientConfig> & {
  bucket: string;
  /**
   * Prefix of every key of the open zone (e.g. a deployment name and `/`). Default ''. The
   * protected zone's keys are the same under `protected/` (`protected/<prefix>node/…`): outside
   * every prefix the client policy grants.
   */
  prefix?: string;
  /** Counts billed S3 requests. */
  meter?: Meter;
};

/**
 * The S3 object key of a node: `node` followed by each path segment, URI-encoded, so that every
 * path maps to one key and no two paths to the same one (`/` → `node`, `/a b` → `node/a%20b`).
 */
export function nodeObjectKey(prefix: string, path: string): string {
  if (path === '/') return `${prefix}node`;
  return `${prefix}node${path
    .split('/')
    .slice(1)
    .map((s) => `/${encodeURIComponent(s)}`)
    .join('')}`;
}

/**
 * The key prefix of a node's child index: `kids` followed by its path segments, URI-encoded as in
 * {@link nodeObjectKey}, and `/` (`/` → `kids/`, `/a b` → `kids/a%20b/`). Each entry is an empty
 * object under it, named by the URI-encoded `<name>@<czxid>[~<dzxid>]` (so no `/` inside), which a
 * listing with the `/` delimiter returns without the entries of deeper descendants.
 */
export function childIndexPrefix(prefix: string, parent: string): string {
  return `${nodeObjectKey(prefix, parent).replace(/^(.*?)node/s, '$1kids')}/`;
}

/** Reads an S3 body stream to a string. */
async function bodyText(body: unknown): Promise<string> {
  const b = body as { transformToString?: (encoding?: string) => Promise<string> } | undefined;
  if (b?.transformToString === undefined) throw new PortError('S3 GetObject returned no body');
  return b.transformToString('utf-8');
}

/**
 * The user store on S3 (the paper's "persistent" option): one object per node holding the
 * {@link NodeRecord} in the core's wire encoding, and the watermark as an object of its own. S3
 * reads are strongly consistent; a miss (404) is `undefined`. Records up to the 1 MiB node limit
 * (and far beyond) fit one PUT.
 */
export class S3UserStore implements UserStore {
  readonly bucket: string;
  readonly prefix: string;
  readonly client: S3Client;
  private readonly meter: Meter;

  constructor(options: S3UserStoreOptions) {
    this.client = s3ClientOf(options);
    this.bucket = options.bucket;
    this.prefix = options.prefix ?? '';
    this.meter = options.meter ?? noMeter;
  }

  /** Creates the bucket (tests and the local stack). */
  static async createBucket(client: S3Client, bucket: string): Promise<void> {
    await awsCall('S3 CreateBucket', () => client.send(new CreateBucketCommand({ Bucket: bucket })));
  }

  /** The key prefix of `zone`. */
  zonePrefix(zone: Zone = 'open'): string {
    return zone === 'open' ? this.prefix : `${PROTECTED_PREFIX}${this.prefix}`;
  }

  /** Deletes every object under both zones' prefixes, then (when `bucket` is true) the bucket. */
  async drop(options: { bucket?: boolean } = {}): Promise<void> {
    await emptyPrefix(this.client, this.bucket, this.prefix);
    await emptyPrefix(this.client, this.bucket, this.zonePrefix('protected'));
    if (options.bucket)
      await awsCall('S3 DeleteBucket', () =>
        this.client.send(new DeleteBucketCommand({ Bucket: this.bucket })),
      );
  }

  private get watermarkKey(): string {
    return `${this.prefix}watermark`;
  }

  private async getText(key: string): Promise<string | undefined> {
    this.meter.add(METER_KEYS.s3Get);
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      return await bodyText(out.Body);
    } catch (error) {
      const name = awsErrorName(error);
      if (
        name === 'NoSuchKey' ||
        name === 'NotFound' ||
        (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404
      )
        return undefined;
      throw translateAwsError('S3 GetObject', error);
    }
  }

  private async putText(key: string, text: string): Promise<void> {
    this.meter.add(METER_KEYS.s3Put);
    await awsCall('S3 PutObject', () =>
      this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: key,
          Body: text,
          ContentType: 'text/plain; charset=utf-8',
        }),
      ),
    );
  }

  async get(path: string, zone?: Zone): Promise<NodeRecord | undefined> {
    const text = await this.getText(nodeObjectKey(this.zonePrefix(zone), path));
    if (text === undefined) return undefined;
    try {
      return readNodeRecord(decodeMessage(text));
    } catch (error) {
      throw new PortError(`S3 object of ${path} is not a node record`, { cause: error });
    }
  }

  async put(path: string, record: NodeRecord, zone?: Zone): Promise<void> {
    await this.putText(nodeObjectKey(this.zonePrefix(zone), path), encodeMessage(record));
  }

  async delete(path: string, zone?: Zone): Promise<void> {
    this.meter.add(METER_KEYS.s3Delete);
    await awsCall('S3 DeleteObject', () =>
      this.client.send(
        new DeleteObjectCommand({ Bucket: this.bucket, Key: nodeObjectKey(this.zonePrefix(zone), path) }),
      ),
    );
  }

  async putChild(entry: ChildEntry, zone?: Zone): Promise<void> {
    // An empty object: the key is the content, so a listing alone gives the index. Empty bytes
    // with their length, not '': the SDK takes an empty string for a stream of unknown length.
    this.meter.add(METER_KEYS.s3Put);
    await awsCall('S3 PutObject', () =>
      this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: this.childObjectKey(entry, zone),
          Body: new Uint8Array(0),
          ContentLength: 0,
        }),
      ),
    );
  }

  async deleteChild(entry: ChildEntry, zone?: Zone): Promise<void> {
    this.meter.add(METER_KEYS.s3Delete);
    await awsCall('S3 DeleteObject', () =>
      this.client.send(
        new DeleteObjectCommand({ Bucket: this.bucket, Key: this.childObjectKey(entry, zone) }),
      ),
    );
  }

  async listChildren(parent: string, zone?: Zone): Promise<ChildEntry[]> {
    const under = childIndexPrefix(this.zonePrefix(zone), parent);
    const entries: ChildEntry[] = [];
    let token: string | undefined;
    do {
      const from = token;
      // A LIST is billed in the PUT class; one per 1,000 entries.
      this.meter.add(METER_KEYS.s3Put);
      const page = await awsCall('S3 ListObjectsV2', () =>
        this.client.send(
          new ListObjectsV2Command({
            Bucket: this.bucket,
            Prefix: under,
            Delimiter: '/',
            ...(from === undefined ? {} : { ContinuationToken: from }),
          }),
        ),
      );
      for (const o of page.Contents ?? []) {
        if (o.Key === undefined) continue;
        const entry = parseChildKey(parent, decodeURIComponent(o.Key.slice(under.length)));
        if (entry === undefined) throw new PortError(`S3 object ${o.Key} is not a child index entry`);
        entries.push(entry);
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
    return entries;
  }

  private childObjectKey(entry: ChildEntry, zone?: Zone): string {
    return `${childIndexPrefix(this.zonePrefix(zone), entry.parent)}${encodeURIComponent(childKey(entry))}`;
  }

  async getWatermark(): Promise<number> {
    const text = await this.getText(this.watermarkKey);
    return text === undefined ? 0 : Number(text);
  }

  async putWatermark(zxid: number): Promise<void> {
    await this.putText(this.watermarkKey, String(zxid));
  }

  /** The marker's key, `owed/<session>`: beside `node…` and `watermark`, never a node's. */
  private markerKey(session: number): string {
    return `${this.prefix}owed/${session}`;
  }

  async getMarker(session: number): Promise<number[] | undefined> {
    const text = await this.getText(this.markerKey(session));
    return text === undefined ? undefined : parseMarker(text, `S3 object of marker ${session}`);
  }

  async putMarker(session: number, events: readonly number[]): Promise<void> {
    if (events.length > 0) {
      await this.putText(this.markerKey(session), JSON.stringify(events));
      return;
    }
    this.meter.add(METER_KEYS.s3Delete);
    await awsCall('S3 DeleteObject', () =>
      this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.markerKey(session) })),
    );
  }
}

/** Deletes every object under `prefix` in `bucket`. */
export async function emptyPrefix(client: S3Client, bucket: string, prefix: string): Promise<void> {
  let token: string | undefined;
  do {
    const from = token;
    const page = await awsCall('S3 ListObjectsV2', () =>
      client.send(
        new ListObjectsV2Command({
          Bucket: bucket,
          Prefix: prefix,
          ...(from === undefined ? {} : { ContinuationToken: from }),
        }),
      ),
    );
    const keys = (page.Contents ?? []).flatMap((o) => (o.Key === undefined ? [] : [{ Key: o.Key }]));
    if (keys.length > 0)
      await awsCall('S3 DeleteObjects', () =>
        client.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys } })),
      );
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token !== undefined);
}
