/**
 * Session authentication and channel secrecy (docs/guarantees.md "Security model").
 *
 * Guarantees kept: a session is usable only by whoever holds its secret — every request it sends
 * carries an HMAC-SHA256 over its exact bytes under the session key the client drew at open, so a
 * request forged for another session (or altered) is refused, and a replayed one is a duplicate of
 * a `seq` the writer already took; replies and watch events on a session's channel are sealed with
 * AES-256-GCM under the session's channel key, so a client that reads another session's channel (or
 * the bodies offloaded from it) learns nothing and cannot alter them unnoticed.
 *
 * Keys: the session key `S` (32 random bytes, or derived by a gateway from its secret so that any
 * of its processes can resume the session) reaches the writer only inside `openSession`, through the
 * send-only writer queue, and is kept in the session item (private system store). The channel key
 * is `HMAC(M, "channel:" + session)` with `M` the deployment's channel secret, which only the writer
 * and the distributor hold: the distributor seals every message without reading any session item,
 * and the writer hands the channel key to the client in its open (or resume) reply, wrapped under
 * `S`, the one channel message that goes unsealed.
 */
import { Buffer } from 'node:buffer';
import { createCipheriv, createDecipheriv, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { ChannelBody } from '../protocol/batches.js';
import { encodeMessage } from '../protocol/codec.js';

/** Bytes of a session key. */
export const SESSION_KEY_BYTES = 32;
/** A session key as requests carry it: base64url of {@link SESSION_KEY_BYTES} bytes. */
export const SESSION_KEY_PATTERN = /^[A-Za-z0-9_-]{43}$/;

/** The tail a signed request's JSON head ends with (the MAC is base64url of 32 bytes). */
const MAC_TAIL = /,"mac":"([A-Za-z0-9_-]{43})"\}$/;

/** A fresh random session key. */
export function newSessionKey(): Uint8Array {
  return new Uint8Array(randomBytes(SESSION_KEY_BYTES));
}

/** The session key as `openSession` carries it. */
export const encodeSessionKey = (key: Uint8Array): string => Buffer.from(key).toString('base64url');

/** The session key `openSession` carried (see {@link encodeSessionKey}). */
export const decodeSessionKey = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, 'base64url'));

const mac = (key: Uint8Array, bytes: string): Buffer =>
  createHmac('sha256', key).update(bytes, 'utf8').digest();

/**
 * Signs an encoded request (`encodeMessage` output): its JSON head gets a last field `mac`, the
 * HMAC-SHA256 under `key` of the request's whole text without it (head and binary lines).
 */
export function signRequest(key: Uint8Array, body: string): string {
  const tag = mac(key, body).toString('base64url');
  const nl = body.indexOf('\n');
  const head = nl < 0 ? body : body.slice(0, nl);
  const signedHead = `${head.slice(0, -1)},"mac":"${tag}"}`;
  return nl < 0 ? signedHead : signedHead + body.slice(nl);
}

/** A received request split into the text its MAC covers and the MAC (absent: unsigned). */
export interface SignedText {
  /** The request as it was signed, which is also what is decoded. */
  text: string;
  mac?: string;
}

/** Takes the MAC off a received request's text (see {@link signRequest}). */
export function splitSignature(body: string): SignedText {
  const nl = body.indexOf('\n');
  const head = nl < 0 ? body : body.slice(0, nl);
  const found = MAC_TAIL.exec(head);
  if (found === null) return { text: body };
  const unsignedHead = `${head.slice(0, found.index)}}`;
  return { text: nl < 0 ? unsignedHead : unsignedHead + body.slice(nl), mac: found[1]! };
}

/** Whether `signed` carries a MAC that `key` made (constant time). */
export function verifySignature(key: Uint8Array | undefined, signed: SignedText | undefined): boolean {
  return key !== undefined && signed?.mac !== undefined && textMacMatches(key, signed.text, signed.mac);
}

/**
 * A MAC of a short text under `key` (base64url HMAC-SHA256): what a lease renewal carries
 * (`session/lease.ts`), over a text that names what it vouches for.
 */
export const textMac = (key: Uint8Array, text: string): string => mac(key, text).toString('base64url');

/** Whether `given` is {@link textMac} of `text` under `key` (constant time). */
export function textMacMatches(key: Uint8Array, text: string, given: unknown): boolean {
  if (typeof given !== 'string') return false;
  const expected = mac(key, text);
  const bytes = Buffer.from(given, 'base64url');
  return bytes.byteLength === expected.byteLength && timingSafeEqual(bytes, expected);
}

/** The channel key of `session`: HMAC-SHA256 under the deployment's channel secret. */
export function channelKey(channelSecret: string, session: number): Uint8Array {
  return new Uint8Array(createHmac('sha256', channelSecret).update(`channel:${session}`).digest());
}

const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * Random IVs, drawn from the CSPRNG 4 KiB at a time: one `randomBytes` call per sealed message
 * cost about 8 µs, a fifth of an embedded write. Each IV is still used once (a 96-bit random IV per
 * message, as before); only the draws are batched.
 */
const ivPool = { bytes: Buffer.alloc(0), at: 0 };
function freshIv(): Buffer {
  if (ivPool.at + IV_BYTES > ivPool.bytes.byteLength) {
    ivPool.bytes = randomBytes(4096);
    ivPool.at = 0;
  }
  const iv = ivPool.bytes.subarray(ivPool.at, ivPool.at + IV_BYTES);
  ivPool.at += IV_BYTES;
  return iv;
}

/** AES-256-GCM: iv ‖ ciphertext ‖ tag, `aad` bound to it. */
export function seal(key: Uint8Array, plain: Uint8Array, aad: string): Uint8Array {
  const iv = freshIv();
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const body = Buffer.concat([cipher.update(plain), cipher.final()]);
  return new Uint8Array(Buffer.concat([iv, body, cipher.getAuthTag()]));
}

/**
 * Opens what {@link seal} made.
 * @throws Error when the box was not sealed with `key` and `aad`, or was altered.
 */
export function unseal(key: Uint8Array, box: Uint8Array, aad: string): Uint8Array {
  if (box.byteLength < IV_BYTES + TAG_BYTES) throw new Error('sealed box too short');
  const b = Buffer.from(box.buffer, box.byteOffset, box.byteLength);
  const decipher = createDecipheriv('aes-256-gcm', key, b.subarray(0, IV_BYTES));
  decipher.setAAD(Buffer.from(aad, 'utf8'));
  decipher.setAuthTag(b.subarray(b.byteLength - TAG_BYTES));
  return new Uint8Array(
    Buffer.concat([decipher.update(b.subarray(IV_BYTES, b.byteLength - TAG_BYTES)), decipher.final()]),
  );
}

/** What a sealed request's box is bound to: its session, so a box cannot be passed off as another's. */
const requestAad = (session: number): string => `fk-request:${session}`;

/**
 * A signed request (`signRequest` output) sealed with AES-256-GCM under the session key, for a body
 * the writer queue carries through object storage that other clients can read (an offloaded body,
 * `Queue.capabilities.offloads`). Only the session's id stays in clear, so the writer knows whose
 * key opens it: `{"sealed":<session>,"box":{"$b":0}}` and the box's base64 line.
 */
export function sealRequest(key: Uint8Array, session: number, signed: string): string {
  return encodeMessage({ sealed: session, box: seal(key, Buffer.from(signed, 'utf8'), requestAad(session)) });
}

/** A decoded message's sealed request (see {@link sealRequest}), if it is one. */
export function sealedRequestOf(message: unknown): { session: number; box: Uint8Array } | undefined {
  if (typeof message !== 'object' || message === null) return undefined;
  const { sealed, box } = message as { sealed?: unknown; box?: unknown };
  if (typeof sealed !== 'number' || !Number.isSafeInteger(sealed) || sealed <= 0) return undefined;
  return box instanceof Uint8Array ? { session: sealed, box } : undefined;
}

/**
 * The signed request text a sealed request holds.
 * @throws Error when it was not sealed under `key` for `session`, or was altered.
 */
export function openRequest(key: Uint8Array, session: number, box: Uint8Array): string {
  return Buffer.from(unseal(key, box, requestAad(session))).toString('utf8');
}

/** What a channel message's seal is bound to: its session and place, so a box cannot be moved. */
export const channelAad = (
  session: number,
  order: readonly [number, number],
  zxid: number,
  wm: number,
): string => `fk-channel:${session}:${order[0]}:${order[1]}:${zxid}:${wm}`;

/** The channel key wrapped for the client that holds `sessionKey` (the open and resume replies carry it). */
export function wrapChannelKey(sessionKey: Uint8Array, session: number, key: Uint8Array): string {
  return Buffer.from(seal(sessionKey, key, `fk-wrap:${session}`)).toString('base64url');
}

/**
 * The channel key from an open or resume reply.
 * @throws Error when it was not wrapped under `sessionKey` for `session`.
 */
export function unwrapChannelKey(sessionKey: Uint8Array, session: number, wrapped: string): Uint8Array {
  return unseal(sessionKey, new Uint8Array(Buffer.from(wrapped, 'base64url')), `fk-wrap:${session}`);
}

/**
 * The session key a gateway gives the sessions it opens: derived from its secret, so that every
 * process holding the secret can resume them, as they check their ZooKeeper passwords.
 */
export function derivedSessionKey(secret: string | Uint8Array, session: number): Uint8Array {
  return new Uint8Array(createHmac('sha256', secret).update(`faaskeeper-session-key:${session}`).digest());
}

/**
 * The channel messages that go unsealed: the replies that hand the client its channel key (it
 * cannot open anything before), and SESSIONEXPIRED answers, which a client that never got the key
 * (a resume of a session that is gone) must read too. Both say nothing beyond the session's state.
 */
export function leftUnsealed(body: ChannelBody): boolean {
  if (body.type !== 'reply') return false;
  if (body.error !== undefined) return body.error.code === 'SESSIONEXPIRED';
  return body.result?.type === 'session' || body.result?.type === 'resumed';
}
