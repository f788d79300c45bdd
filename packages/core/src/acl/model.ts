/**
 * ZooKeeper's ACL constants (`ZooDefs.Perms`, `ZooDefs.Ids`) and the zkCli text form of an ACL.
 */
import type { ACL, Id } from '../protocol/messages.js';

/** Permission bits of an ACL entry, as ZooKeeper's `ZooDefs.Perms`. */
export const Perms = {
  READ: 1,
  WRITE: 2,
  CREATE: 4,
  DELETE: 8,
  ADMIN: 16,
  ALL: 31,
} as const;

const ANYONE_ID_UNSAFE: Id = { scheme: 'world', id: 'anyone' };
const AUTH_IDS: Id = { scheme: 'auth', id: '' };

/** ZooKeeper's well-known ids and ACLs (`ZooDefs.Ids`). Frozen: share them, never change them. */
export const Ids = Object.freeze({
  /** world:anyone, every client. */
  ANYONE_ID_UNSAFE: Object.freeze(ANYONE_ID_UNSAFE),
  /** auth: replaced, at create and setACL, by each identity the session authenticated. */
  AUTH_IDS: Object.freeze(AUTH_IDS),
  /** Every permission to everyone: the ACL of a node created without one. */
  OPEN_ACL_UNSAFE: Object.freeze([Object.freeze({ perms: Perms.ALL, id: ANYONE_ID_UNSAFE })]),
  /** Every permission to the creator's authenticated identities (needs an `addAuth` first). */
  CREATOR_ALL_ACL: Object.freeze([Object.freeze({ perms: Perms.ALL, id: AUTH_IDS })]),
  /** Read only, to everyone. */
  READ_ACL_UNSAFE: Object.freeze([Object.freeze({ perms: Perms.READ, id: ANYONE_ID_UNSAFE })]),
}) satisfies Record<string, Id | readonly ACL[]>;

/** A fresh, mutable copy of OPEN_ACL_UNSAFE (what a node without a stored ACL has). */
export const openAcl = (): ACL[] => [{ perms: Perms.ALL, id: { ...ANYONE_ID_UNSAFE } }];

/** Whether `acl` is exactly OPEN_ACL_UNSAFE: such a node stores no ACL at all. */
export function isOpenAcl(acl: readonly ACL[] | undefined): boolean {
  if (acl === undefined) return true;
  const [only] = acl;
  return (
    acl.length === 1 && only!.perms === Perms.ALL && only!.id.scheme === 'world' && only!.id.id === 'anyone'
  );
}

/**
 * Whether a node with `acl` is readable by everyone (`world:anyone` holds READ; absent or empty:
 * open). The records of the other nodes live in the user store's protected zone.
 */
export function worldReadable(acl: readonly ACL[] | undefined): boolean {
  if (acl === undefined || acl.length === 0) return true;
  return acl.some((e) => (e.perms & Perms.READ) !== 0 && e.id.scheme === 'world' && e.id.id === 'anyone');
}

/** zkCli's letters of a permission set, in its order: `cdrwa`. */
export function permString(perms: number): string {
  let text = '';
  if ((perms & Perms.CREATE) !== 0) text += 'c';
  if ((perms & Perms.DELETE) !== 0) text += 'd';
  if ((perms & Perms.READ) !== 0) text += 'r';
  if ((perms & Perms.WRITE) !== 0) text += 'w';
  if ((perms & Perms.ADMIN) !== 0) text += 'a';
  return text;
}

const PERM_LETTERS: Readonly<Record<string, number>> = {
  r: Perms.READ,
  w: Perms.WRITE,
  c: Perms.CREATE,
  d: Perms.DELETE,
  a: Perms.ADMIN,
};

/**
 * Parses zkCli's ACL text (`world:anyone:cdrwa,digest:u:hash:r`, entries split at commas, each
 * `scheme:id:perms` split at its first and last colon). As zkCli does, an entry without that
 * form and an unknown permission letter are skipped, each with a `problems` line (zkCli prints
 * them and goes on); the server then judges what is left.
 */
export function parseAclText(text: string): { acl: ACL[]; problems: string[] } {
  const acl: ACL[] = [];
  const problems: string[] = [];
  for (const entry of text.split(',')) {
    const first = entry.indexOf(':');
    const last = entry.lastIndexOf(':');
    if (first === -1 || first === last) {
      problems.push(`${entry} does not have the form scheme:id:perm`);
      continue;
    }
    let perms = 0;
    for (const letter of entry.slice(last + 1)) {
      const bit = PERM_LETTERS[letter];
      if (bit === undefined) problems.push(`Unknown perm type: ${letter}`);
      else perms |= bit;
    }
    acl.push({ perms, id: { scheme: entry.slice(0, first), id: entry.slice(first + 1, last) } });
  }
  return { acl, problems };
}
