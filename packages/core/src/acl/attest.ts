/**
 * Client addresses for the `ip` scheme. The writer cannot see where a request comes from (a queue
 * hides it), so a session's ip identity comes from a gateway, which sees the client's socket: the
 * gateway attests the address with a key it shares with the writer (the deployment's
 * `gatewayKey`), and the writer accepts an ip identity only with a valid attestation for that
 * very session.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

const tag = (key: string, session: number, address: string) =>
  createHmac('sha256', key).update(`ip:${session}:${address}`).digest('base64url');

/** The `auth` of `addAuth('ip', …)` that attests `address` for `session` under `key`. */
export function attestAddress(key: string, session: number, address: string): string {
  return `${address}|${tag(key, session, address)}`;
}

/** The address `auth` attests for `session` under `key`, or undefined when it attests nothing. */
export function attestedAddress(key: string, session: number, auth: string): string | undefined {
  const bar = auth.lastIndexOf('|');
  if (bar <= 0) return undefined;
  const address = auth.slice(0, bar);
  const given = Buffer.from(auth.slice(bar + 1), 'utf8');
  const expected = Buffer.from(tag(key, session, address), 'utf8');
  return given.byteLength === expected.byteLength && timingSafeEqual(given, expected) ? address : undefined;
}
