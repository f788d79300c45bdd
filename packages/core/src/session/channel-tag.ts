/**
 * The secret name of a session's channel (docs/guarantees.md "Availability of a session's
 * channel").
 *
 * Guarantee kept: no client can receive, hide or delete another session's channel messages. Cloud
 * grants cannot tell one session's client from another (the client policy grants channel queues by
 * name prefix), so the name itself is the capability: it derives from the session's channel key
 * `K` (session/auth.ts), which only the writer and the distributor can compute and only the
 * session's client is handed (wrapped under its session key, in the open or resume reply). The
 * distributor computes it without a lookup, as it computes `K`; a client that never had `K` cannot
 * guess it (≥ 128 bits) nor list it (no client holds a list permission on queues or subscriptions).
 * The one message that must reach a client before it has `K` — the reply that hands it over, or a
 * SESSIONEXPIRED answer to a resume — goes to the session's bootstrap channel, named after the
 * session alone.
 */
import { createHmac } from 'node:crypto';

/** RFC 4648 base32, lowercase: letters and digits only, valid in SQS and Pub/Sub names alike. */
const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

/** Characters of a tag: 26 × 5 = 130 bits of the HMAC. */
export const CHANNEL_TAG_CHARS = 26;

/** Lowercase base32 of the first `chars` × 5 bits of `bytes`. */
function base32(bytes: Uint8Array, chars: number): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5 && out.length < chars) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    value &= (1 << bits) - 1;
    if (out.length === chars) break;
  }
  return out;
}

/**
 * The tag that names the secret channel of `session`'s incarnation `incarnation`: lowercase base32
 * of HMAC-SHA256 under the session's channel key `key`, {@link CHANNEL_TAG_CHARS} characters.
 */
export function channelTag(key: Uint8Array, session: number, incarnation: number): string {
  const mac = createHmac('sha256', key).update(`fk-channel-name:${session}:${incarnation}`).digest();
  return base32(new Uint8Array(mac), CHANNEL_TAG_CHARS);
}
