import {
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { type Clock, type Meter, noMeter, retry, TransientError } from '@faaskeeper/core';
import { awsCall, awsErrorName, translateAwsError } from './aws-errors.js';
import { METER_KEYS } from './meter.js';

/**
 * Text objects in one bucket, for the values the adapters move out of DynamoDB items and SQS
 * messages: every call metered as S3 bills it, every SDK error translated (`what` names the user
 * in error messages).
 */
export class S3Objects {
  constructor(
    private readonly client: S3Client,
    readonly bucket: string,
    private readonly what: string,
    private readonly meter: Meter = noMeter,
  ) {}

  async put(key: string, text: string): Promise<void> {
    this.meter.add(METER_KEYS.s3Put);
    await awsCall(`S3 PutObject (${this.what})`, () =>
      this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: text })),
    );
  }

  /** The object's text, or `undefined` when it is gone. */
  async get(key: string): Promise<string | undefined> {
    this.meter.add(METER_KEYS.s3Get);
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      return await (out.Body as { transformToString(encoding?: string): Promise<string> }).transformToString(
        'utf-8',
      );
    } catch (error) {
      if (awsErrorName(error) === 'NoSuchKey') return undefined;
      throw translateAwsError(`S3 GetObject (${this.what})`, error);
    }
  }

  /**
   * Deletes an object, best effort. Callers delete only objects that nothing references any more
   * (a replaced system-item value, a delivered message body), so an object a failed call leaves
   * behind is storage, never a wrong read: the error is dropped rather than failing a write that
   * already committed. Message bodies left behind expire by the bucket's lifecycle rule.
   */
  async remove(key: string): Promise<void> {
    this.meter.add(METER_KEYS.s3Delete);
    await this.client
      .send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }))
      .catch((_unreferencedLeftover: unknown) => undefined);
  }

  /** Keys under `prefix` (first page), or [] when listing fails (callers only clean up with it). */
  async list(prefix: string): Promise<string[]> {
    this.meter.add(METER_KEYS.s3Put); // LIST is billed with PUTs
    const page = await this.client
      .send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix }))
      .catch(() => undefined);
    return (page?.Contents ?? []).flatMap((o) => (o.Key === undefined ? [] : [o.Key]));
  }
}

/** What a read returns when the offloaded object its item pointed to was gone (replaced meanwhile). */
export const REPLACED: unique symbol = Symbol('replaced');

/** A read found its offloaded object replaced: the failure {@link rereadReplaced} retries. */
class Replaced extends Error {}

/** Reads of an item whose offloaded object keeps being replaced, before giving up. */
const REREADS = 5;

/**
 * Runs `read` until it finds the object its item points to: an item whose object was deleted as
 * replaced between the two reads is read again at once (the writer that replaced it has already
 * committed the new pointer), at most {@link REREADS} times, then a {@link TransientError}. SDK
 * failures of `read` are not retried here (the SDK retried them).
 */
export async function rereadReplaced<T>(
  what: string,
  clock: Clock,
  read: () => Promise<T | typeof REPLACED>,
): Promise<T> {
  try {
    return await retry(
      async () => {
        const out = await read();
        if (out === REPLACED) throw new Replaced();
        return out;
      },
      {
        clock,
        isTransient: (error) => error instanceof Replaced,
        maxAttempts: REREADS,
        backoff: { baseMs: 0, maxMs: 0 },
      },
    );
  } catch (error) {
    if (error instanceof Replaced) throw new TransientError(`${what} kept changing while being read`);
    throw error;
  }
}
