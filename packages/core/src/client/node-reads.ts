/*
 * The read side of the client API: what getData, exists, getChildren and getACL answer. Each read
 * checks its arguments, answers ZooKeeper's system nodes (`/zookeeper`…) itself, and otherwise
 * reads the user store through the consistent reader (single system image, ordered
 * notifications), enforcing READ with the session's identities (ACLs).
 */
import { ReadPermissions } from '../acl/reader.js';
import { validatePath } from '../model/path.js';
import type { Stat } from '../model/stat.js';
import type { Id } from '../protocol/messages.js';
import { checkWatcher } from './arguments.js';
import type { ConsistentReader } from './consistent-reader.js';
import { systemNode } from './system-nodes.js';
import type { NodeAcl, NodeData, Watcher } from './types.js';

/** The client's reads, with the identities they are checked against. */
export class NodeReads {
  /** The identities this session's `addAuth` calls earned (the writer keeps its own copy for writes). */
  private readonly permissions = new ReadPermissions();

  /**
   * @param reader - reads records with the client's consistency rules
   * @param checkUsable - throws when the session cannot be used (expired, closed)
   */
  constructor(
    private readonly reader: ConsistentReader,
    private readonly checkUsable: () => void,
  ) {}

  /** Takes the identities the writer granted to an `addAuth`. */
  grant(ids: readonly Id[]): void {
    this.permissions.grant(ids);
  }

  /** getData. @throws FaaSKeeperError NONODE, NOAUTH. */
  async data(path: string, watch: Watcher | undefined): Promise<NodeData> {
    this.check(path, watch);
    // A watch on a system node could never fire: nothing may write there.
    const system = systemNode(path);
    if (system !== undefined) return { data: system.data, stat: system.stat };
    const record = this.permissions.readable(path, await this.reader.read(path, 'data', watch));
    return record.nullData === true
      ? { data: record.data, stat: record.stat, nullData: true }
      : { data: record.data, stat: record.stat };
  }

  /** exists: no permission is needed, as in ZooKeeper. */
  async exists(path: string, watch: Watcher | undefined): Promise<Stat | null> {
    this.check(path, watch);
    const system = systemNode(path);
    if (system !== undefined) return system.stat;
    const record = await this.reader.read(path, 'exists', watch);
    return record === null ? null : record.stat;
  }

  /** getChildren, sorted. @throws FaaSKeeperError NONODE, NOAUTH. */
  async children(path: string, watch: Watcher | undefined): Promise<{ children: string[]; stat: Stat }> {
    this.check(path, watch);
    const system = systemNode(path);
    if (system !== undefined) return { children: system.children, stat: system.stat };
    return this.reader.readChildren(path, watch, (record) => this.permissions.readable(path, record));
  }

  /** getACL. @throws FaaSKeeperError NONODE, NOAUTH. */
  async acl(path: string): Promise<NodeAcl> {
    this.check(path, undefined);
    const system = systemNode(path);
    if (system !== undefined) return { acl: system.acl, stat: system.stat };
    return this.permissions.aclOf(path, await this.reader.readAcl(path));
  }

  private check(path: string, watcher: Watcher | undefined): void {
    validatePath(path);
    this.checkUsable();
    if (watcher !== undefined) checkWatcher(watcher, path, 'watch');
  }
}
