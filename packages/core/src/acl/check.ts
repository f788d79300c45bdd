/**
 * ZooKeeper 3.8's ACL rules: which identities a session has, whether they hold a permission on a
 * node, and the checks an ACL passes before it is stored (create, setACL).
 *
 * Guarantees kept: the writer refuses every write whose session lacks the permission ZooKeeper
 * asks for (NOAUTH); the `super` identity, obtained only by authenticating with the deployment's
 * configured super digest, holds every permission; an ACL that is empty, names an unknown scheme
 * or a malformed id, or uses `auth` without an authenticated identity is refused (INVALIDACL).
 */
import { FaaSKeeperError } from '../model/errors.js';
import type { ACL, Id } from '../protocol/messages.js';
import { attestedAddress } from './attest.js';
import { generateDigest } from './digest.js';

/** The identity a session holding the deployment's super digest gains: every permission. */
export const SUPER_ID: Readonly<Id> = Object.freeze({ scheme: 'super', id: '' });

/**
 * Java's `String.split(sep)`: trailing empty pieces are dropped (ZooKeeper's id checks rely on
 * it: `u:h:` is a valid digest id, `u:` is not).
 */
function javaSplit(text: string, sep: string): string[] {
  const parts = text.split(sep);
  while (parts.length > 0 && parts[parts.length - 1] === '') parts.pop();
  return parts;
}

/** An IPv4 address as 4 bytes, or undefined (ZooKeeper 3.8's ip scheme knows IPv4 only). */
function ipv4Bytes(text: string): number[] | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  const bytes = parts.map((p) => (/^\d{1,3}$/.test(p) ? Number(p) : Number.NaN));
  return bytes.every((b) => b >= 0 && b <= 255) ? bytes : undefined;
}

/** Whether `id` is a valid ip-scheme id: `a.b.c.d` or `a.b.c.d/bits`, bits 0..32. */
function validIp(id: string): boolean {
  const slash = id.indexOf('/');
  if (ipv4Bytes(slash === -1 ? id : id.slice(0, slash)) === undefined) return false;
  if (slash === -1) return true;
  const bits = id.slice(slash + 1);
  return /^[+-]?\d+$/.test(bits) && Number(bits) >= 0 && Number(bits) <= 32;
}

/** Whether address `addr` is in the ip ACL id `pattern` (`a.b.c.d[/bits]`). */
function ipMatches(addr: string, pattern: string): boolean {
  const slash = pattern.indexOf('/');
  const net = ipv4Bytes(slash === -1 ? pattern : pattern.slice(0, slash));
  const host = ipv4Bytes(addr);
  if (net === undefined || host === undefined) return false;
  const bits = slash === -1 ? 32 : Number(pattern.slice(slash + 1));
  for (let i = 0; i < 4; i++) {
    const take = Math.max(0, Math.min(8, bits - 8 * i));
    const mask = (0xff << (8 - take)) & 0xff;
    if ((net[i]! & mask) !== (host[i]! & mask)) return false;
  }
  return true;
}

/** Whether an ACL entry's id names a valid identity of its scheme (ZooKeeper's provider `isValid`). */
function validId(id: Id): boolean {
  if (id.scheme === 'world') return id.id === 'anyone';
  if (id.scheme === 'digest') return javaSplit(id.id, ':').length === 2;
  if (id.scheme === 'ip') return validIp(id.id);
  return false;
}

/**
 * The ACL as stored: duplicates dropped, each `auth` entry replaced by the session's authenticated
 * identities (digest ones: ZooKeeper's ip identity is not "authenticated"), each other entry
 * checked for its scheme and id.
 * @throws FaaSKeeperError INVALIDACL for an empty ACL, an unknown scheme or malformed id, or an
 * `auth` entry when the session has no authenticated identity.
 */
export function fixupAcl(path: string, acl: readonly ACL[], ids: readonly Id[]): ACL[] {
  const invalid = () => new FaaSKeeperError('INVALIDACL', `INVALIDACL: ${path}`, { path });
  if (acl.length === 0) throw invalid();
  const out: ACL[] = [];
  const add = (entry: ACL) => {
    if (!out.some((e) => e.perms === entry.perms && sameId(e.id, entry.id))) out.push(entry);
  };
  for (const entry of acl) {
    if (entry.id.scheme === 'auth') {
      const authenticated = ids.filter((id) => id.scheme === 'digest');
      if (authenticated.length === 0) throw invalid();
      for (const id of authenticated) add({ perms: entry.perms, id: { ...id } });
    } else if (validId(entry.id)) add({ perms: entry.perms, id: { ...entry.id } });
    else throw invalid();
  }
  return out;
}

const sameId = (a: Id, b: Id) => a.scheme === b.scheme && a.id === b.id;

/** Whether the identity `who` (of the session) matches the ACL entry's id `aclId`. */
function idMatches(who: Id, aclId: Id): boolean {
  if (who.scheme !== aclId.scheme) return false;
  return who.scheme === 'ip' ? ipMatches(who.id, aclId.id) : who.id === aclId.id;
}

/**
 * Whether a session with identities `ids` holds any of the bits `perm` on a node with `acl`
 * (absent or empty: open, as ZooKeeper treats a null ACL). `super` holds everything.
 */
export function permitted(acl: readonly ACL[] | undefined, ids: readonly Id[], perm: number): boolean {
  if (acl === undefined || acl.length === 0) return true;
  if (ids.some((id) => sameId(id, SUPER_ID))) return true;
  for (const entry of acl) {
    if ((entry.perms & perm) === 0) continue;
    if (entry.id.scheme === 'world' && entry.id.id === 'anyone') return true;
    if (ids.some((id) => idMatches(id, entry.id))) return true;
  }
  return false;
}

/** @throws FaaSKeeperError NOAUTH unless {@link permitted}. */
export function requirePerm(
  acl: readonly ACL[] | undefined,
  ids: readonly Id[],
  perm: number,
  path: string,
): void {
  if (!permitted(acl, ids, perm))
    throw new FaaSKeeperError('NOAUTH', `NOAUTH: insufficient permission: ${path}`, { path });
}

/** What the writer authenticates with: the deployment's super digest and gateway key, if any. */
export interface AuthConfig {
  /** `super:<base64 sha1("super:password")>`: its holder gets every permission. */
  superDigest?: string | undefined;
  /** The key gateways attest client addresses with (the `ip` scheme; see `attest.ts`). */
  gatewayKey?: string | undefined;
  /**
   * The deployment's channel secret, which the writer derives each session's channel key from to
   * hand it to the session's client (session/auth.ts). Absent: channels are not sealed.
   */
  channelSecret?: string | undefined;
}

/**
 * The identities `addAuth(scheme, auth)` gives `session`: for `digest`, the digest id of `auth`
 * ("user:password"), and `super` as well when that id is the deployment's super digest; for `ip`,
 * the client address a gateway attested for this session.
 * @throws FaaSKeeperError AUTHFAILED for any other scheme (ZooKeeper has no provider for it), and
 * for an ip address without a valid attestation.
 */
export function authenticate(scheme: string, auth: string, config: AuthConfig, session: number): Id[] {
  if (scheme === 'ip') {
    const address =
      config.gatewayKey === undefined ? undefined : attestedAddress(config.gatewayKey, session, auth);
    if (address === undefined || ipv4Bytes(address) === undefined)
      throw new FaaSKeeperError(
        'AUTHFAILED',
        'AUTHFAILED: an ip identity needs an address attested by a gateway',
      );
    return [{ scheme: 'ip', id: address }];
  }
  if (scheme !== 'digest')
    throw new FaaSKeeperError('AUTHFAILED', `AUTHFAILED: no authentication provider for scheme ${scheme}`);
  const digest = generateDigest(auth);
  const ids: Id[] = [];
  if (config.superDigest !== undefined && digest === config.superDigest) ids.push({ ...SUPER_ID });
  ids.push({ scheme: 'digest', id: digest });
  return ids;
}

/** `ids` with `added` appended, without repeats. */
export function addIds(ids: readonly Id[], added: readonly Id[]): Id[] {
  const out = [...ids];
  for (const id of added) if (!out.some((o) => sameId(o, id))) out.push({ ...id });
  return out;
}

/**
 * The ACL as `getACL` shows it to a session without ADMIN: digest ids lose their hash
 * (`user:x`), as ZooKeeper 3.8 does, so the hash cannot be attacked offline.
 */
export function redactDigests(acl: readonly ACL[]): ACL[] {
  return acl.map((e) =>
    e.id.scheme === 'digest'
      ? // Java's replaceAll(":.*", ":x"): from the first colon to the end of the line.
        { perms: e.perms, id: { scheme: 'digest', id: e.id.id.replace(/:.*/, ':x') } }
      : { perms: e.perms, id: { ...e.id } },
  );
}
