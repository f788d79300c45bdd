/*
 * ZooKeeper's own nodes under the reserved `/zookeeper`: `/zookeeper` with its children `config`
 * and `quota`, all with empty data. ZooKeeper 3.8 answers reads of them (zkCli's `ls /zookeeper`
 * prints `[config, quota]`); FaaSKeeper's writer refuses every write there, so they never change
 * and the client answers them itself, the same way on every deployment and through the gateway.
 * The root does not list `zookeeper` (docs/differences.md).
 */

import { openAcl, Perms } from '../acl/model.js';
import { RESERVED } from '../model/path.js';
import { rootStat, type Stat } from '../model/stat.js';
import type { ACL } from '../protocol/messages.js';

/** A node ZooKeeper keeps for itself: its data is empty and it never changes. */
export interface SystemNode {
  data: Uint8Array;
  stat: Stat;
  children: string[];
  /** Its ACL as ZooKeeper 3.8 answers getACL: open, but read-only for `config`. */
  acl: ACL[];
}

/** The Stat of a system node, field for field what ZooKeeper 3.8 answers (all zxids and times 0). */
function systemStat(fields: Pick<Stat, 'cversion' | 'aversion' | 'numChildren'>): Stat {
  return { ...rootStat(), ...fields };
}

const SYSTEM_NODES: ReadonlyMap<string, () => SystemNode> = new Map([
  // ZooKeeper creates config and quota outside the usual path, so /zookeeper's cversion is -2.
  [
    RESERVED,
    () => ({
      data: new Uint8Array(0),
      stat: systemStat({ cversion: -2, aversion: 0, numChildren: 2 }),
      children: ['config', 'quota'],
      acl: openAcl(),
    }),
  ],
  [
    `${RESERVED}/config`,
    () => ({
      data: new Uint8Array(0),
      stat: systemStat({ cversion: 0, aversion: -1, numChildren: 0 }),
      children: [],
      acl: [{ perms: Perms.READ, id: { scheme: 'world', id: 'anyone' } }],
    }),
  ],
  [
    `${RESERVED}/quota`,
    () => ({
      data: new Uint8Array(0),
      stat: systemStat({ cversion: 0, aversion: 0, numChildren: 0 }),
      children: [],
      acl: openAcl(),
    }),
  ],
]);

/** The system node at `path` (a fresh copy: callers may keep it), or undefined for any other path. */
export function systemNode(path: string): SystemNode | undefined {
  return SYSTEM_NODES.get(path)?.();
}
