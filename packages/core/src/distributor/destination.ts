/**
 * Which of a session incarnation's two channels a message goes to (docs/guarantees.md "Availability
 * of a session's channel"; ports/channel.ts).
 *
 * Guarantee kept: everything a client reads once it has its channel key goes to the channel named
 * by the secret tag (session/channel-tag.ts), which no other client can name; only what it must read
 * before — the reply that hands the key over, or the SESSIONEXPIRED answer to a resume of a session
 * that is gone (its resumer never gets the key) — goes to the bootstrap channel, named after the
 * session. Where channels are not sealed (no channel secret) there is no tag: all goes to the
 * bootstrap channel.
 */
import type { ChannelBody } from '../protocol/messages.js';

/**
 * Whether `body` goes to the bootstrap channel. `refusedResume`: the reply names its incarnation
 * (`Requester.inc`), which the writer does for the answer to a resume of a session that is gone.
 * A SESSIONEXPIRED answer to any other request goes to the secret channel: its client had the key
 * (it is past its open reply), and its bootstrap channel is gone.
 */
export function toBootstrap(body: ChannelBody, refusedResume: boolean): boolean {
  if (body.type !== 'reply') return false;
  if (body.error !== undefined) return refusedResume && body.error.code === 'SESSIONEXPIRED';
  return body.result?.type === 'session' || body.result?.type === 'resumed';
}
