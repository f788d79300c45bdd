/*
 * The reader's side of ACLs. The user store holds every world-readable node's ACL beside its data,
 * and the client enforces READ on what it reads (ZooKeeper's getData and getChildren answer NOAUTH
 * without it); a node without world READ has only a stub there (no data, no ACL), and its reads go
 * through the writer, which checks READ. The writer enforces every write with its own copy of the
 * session's identities.
 */
import { FaaSKeeperError } from '../model/errors.js';
import type { Stat } from '../model/stat.js';
import type { ACL, Id, NodeRecord } from '../protocol/messages.js';
import { addIds, permitted, redactDigests } from './check.js';
import { openAcl, Perms } from './model.js';

/** The identities a session's `addAuth` calls earned, and the read checks made with them. */
export class ReadPermissions {
  private ids: Id[] = [];

  /** Takes the identities the writer granted (the reply to an `addAuth`). */
  grant(ids: readonly Id[]): void {
    this.ids = addIds(this.ids, ids);
  }

  /**
   * `record` if the session may read it.
   * @throws FaaSKeeperError NONODE for a missing node; NOAUTH without READ.
   */
  readable(path: string, record: NodeRecord | null): NodeRecord {
    if (record === null) throw new FaaSKeeperError('NONODE', `NONODE: ${path}`, { path });
    // A stub holds no ACL (nor data): the read must have gone through the writer instead.
    if (record.protected === true) throw stubRead(path);
    if (!permitted(record.acl, this.ids, Perms.READ)) throw noAuth(path);
    return record;
  }

  /**
   * The ACL and Stat of `record`, the ACL as the session may see it: READ or ADMIN is needed, and without ADMIN
   * digest ids are shown without their hash (`user:x`), as ZooKeeper 3.8 shows them.
   * @throws FaaSKeeperError NONODE for a missing node; NOAUTH without READ and ADMIN.
   */
  aclOf(path: string, record: NodeRecord | null): { acl: ACL[]; stat: Stat } {
    if (record === null) throw new FaaSKeeperError('NONODE', `NONODE: ${path}`, { path });
    if (record.protected === true) throw stubRead(path);
    const acl = record.acl ?? openAcl();
    if (!permitted(acl, this.ids, Perms.READ | Perms.ADMIN)) throw noAuth(path);
    return { acl: permitted(acl, this.ids, Perms.ADMIN) ? acl : redactDigests(acl), stat: record.stat };
  }
}

function noAuth(path: string): FaaSKeeperError {
  return new FaaSKeeperError('NOAUTH', `NOAUTH: insufficient permission: ${path}`, { path });
}

function stubRead(path: string): FaaSKeeperError {
  return new FaaSKeeperError(
    'SYSTEMERROR',
    `SYSTEMERROR: the protected stub of ${path} was read as its record`,
    {
      path,
    },
  );
}
