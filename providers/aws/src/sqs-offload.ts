import { randomBytes } from 'node:crypto';
import type { S3Client } from '@aws-sdk/client-s3';
import type { MessageAttributeValue } from '@aws-sdk/client-sqs';
import { type Meter, noMeter } from '@faaskeeper/core';
import { S3Objects } from './s3-objects.js';

/** The message attribute that marks a body carried by reference (its value: the S3 key). */
export const OFFLOAD_ATTRIBUTE = 'faaskeeper-s3-body';

/** The message attribute that marks a body whose characters SQS refuses were escaped. */
export const ESCAPED_ATTRIBUTE = 'faaskeeper-escaped';

/** Message attributes a receive asks for. */
export const BODY_ATTRIBUTES = [OFFLOAD_ATTRIBUTE, ESCAPED_ATTRIBUTE];

// SQS takes #x9 #xA #xD #x20–#xD7FF #xE000–#xFFFD #x10000–#x10FFFF; emulators refuse the last
// range too. Everything else — and the escape character U+E000 itself — is sent as U+E000 and four
// hex digits per UTF-16 code unit.
const UNSAFE = /[^\t\n\r\x20-\uD7FF\uE001-\uFFFD]/g;
const ESCAPE = '\uE000';

/** Escapes a body for SQS; `undefined` when it needs none. */
export function escapeSqsBody(body: string): string | undefined {
  UNSAFE.lastIndex = 0;
  if (!UNSAFE.test(body)) return undefined;
  return body.replace(UNSAFE, (c) => ESCAPE + c.charCodeAt(0).toString(16).padStart(4, '0'));
}

/** Undoes {@link escapeSqsBody}. */
export function unescapeSqsBody(body: string): string {
  return body.replace(/\uE000([0-9a-f]{4})/g, (_, hex: string) =>
    String.fromCharCode(Number.parseInt(hex, 16)),
  );
}

/** The bytes `body` takes inline: escaped where SQS needs it, plus the attribute that says so. */
function inlineBytes(body: string, escaped: string | undefined): number {
  return escaped === undefined ? Buffer.byteLength(body, 'utf8') : Buffer.byteLength(escaped, 'utf8') + 32;
}

/** Whether `body` goes inline within `inlineLimit` bytes (else it is offloaded, or refused). */
export const fitsInline = (inlineLimit: number, body: string): boolean =>
  inlineBytes(body, escapeSqsBody(body)) <= inlineLimit;

/**
 * What to send for `body`: inline (escaped where SQS needs it), or through S3 when it does not fit
 * `inlineLimit` bytes. Throws when it does not fit and there is no offload.
 */
export async function outgoingBody(
  offload: BodyOffload | undefined,
  inlineLimit: number,
  body: string,
): Promise<{ body: string; attributes?: Record<string, MessageAttributeValue> } | undefined> {
  const escaped = escapeSqsBody(body);
  if (inlineBytes(body, escaped) <= inlineLimit) {
    return escaped === undefined
      ? { body }
      : { body: escaped, attributes: { [ESCAPED_ATTRIBUTE]: { DataType: 'String', StringValue: '1' } } };
  }
  if (offload === undefined) return undefined;
  return offload.store(body);
}

/** Where bodies over the SQS limit go: an S3 bucket and key prefix. */
export interface OffloadOptions {
  client: S3Client;
  bucket: string;
  /** Key prefix of offloaded bodies. Default `sqs-bodies/`. */
  prefix?: string;
}

/**
 * Carries SQS bodies over the service limit through S3, like the SQS extended client: the object
 * holds the body, the message holds a small pointer and an attribute naming the key. Keys are
 * random (160 bits), so that no other client can guess one, nor list them (no client is granted
 * ListBucket on the prefix): a key travels only in its message — a channel body's in the session's
 * secret channel, which no other client can receive (docs/guarantees.md "Availability of a
 * session's channel") — so no other client can overwrite the body before it is read. (Keys derived
 * from the de-duplication id would be guessable for requests, whose ids are `session:seq`.) A
 * re-sent duplicate stores another object; the lifecycle rule removes the one whose message SQS
 * dropped as a duplicate.
 */
export class BodyOffload {
  readonly prefix: string;
  private readonly objects: S3Objects;

  constructor(options: OffloadOptions, meter: Meter = noMeter) {
    this.objects = new S3Objects(options.client, options.bucket, 'offloaded SQS body', meter);
    this.prefix = options.prefix ?? 'sqs-bodies/';
  }

  get bucket(): string {
    return this.objects.bucket;
  }

  /** Stores `body` and returns the pointer message body and attributes to send instead. */
  async store(body: string): Promise<{ body: string; attributes: Record<string, MessageAttributeValue> }> {
    const key = `${this.prefix}${randomBytes(20).toString('hex')}`;
    await this.objects.put(key, body);
    return {
      body: JSON.stringify({ s3Bucket: this.bucket, s3Key: key, bytes: Buffer.byteLength(body, 'utf8') }),
      attributes: { [OFFLOAD_ATTRIBUTE]: { DataType: 'String', StringValue: key } },
    };
  }

  /** The body a pointer names; `undefined` when the object is gone. */
  load(key: string): Promise<string | undefined> {
    return this.objects.get(key);
  }

  /** Deletes the object of a handled message (best effort: a lifecycle rule removes leftovers). */
  remove(key: string): Promise<void> {
    return this.objects.remove(key);
  }
}

/** Resolves a received message's body: the inline body, or the offloaded one ('' when it is gone). */
export async function resolveBody(
  offload: BodyOffload | undefined,
  body: string,
  attributes: Record<string, MessageAttributeValue | { stringValue?: string }> | undefined,
): Promise<{ body: string; key?: string }> {
  const attribute = attributes?.[OFFLOAD_ATTRIBUTE] as
    | { StringValue?: string; stringValue?: string }
    | undefined;
  const key = attribute?.StringValue ?? attribute?.stringValue;
  if (key === undefined)
    return { body: attributes?.[ESCAPED_ATTRIBUTE] === undefined ? body : unescapeSqsBody(body) };
  if (offload === undefined) return { body, key };
  // A vanished object leaves a body the core treats as poison (answered, never blocking the group).
  return { body: (await offload.load(key)) ?? '', key };
}
