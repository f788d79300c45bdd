import { worldReadable } from '../../acl/model.js';
import type { PortWrappers } from '../../deployment/deployment.js';
import type { EmbeddedPorts } from '../../embedded/embedded-service.js';
import { settle } from '../../memory/manual-clock.js';
import { MemoryUserStore } from '../../memory/memory-user-store.js';
import type { Channel } from '../../ports/channel.js';
import type { Queue } from '../../ports/queue.js';
import type { SystemStore } from '../../ports/system-store.js';
import type { UserStore, Zone } from '../../ports/user-store.js';
import type { NodeRecord, SessionItem, SystemNodeItem, WriterState } from '../../protocol/messages.js';
import { withChildStat } from '../../writer/child-stats.js';
import { unpackState } from '../../writer/redo-log.js';
import { WRITER_STATE_ID } from '../../writer/writer.js';
import { interceptPort, PORT_METHODS, unwrapPort } from './intercept.js';

const parentPath = (path: string) => {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.slice(0, i);
};
const baseName = (path: string) => path.slice(path.lastIndexOf('/') + 1);

function queueDepth(queue: Queue): number {
  const depth = (unwrapPort(queue) as { depth?: number }).depth;
  return typeof depth === 'number' ? depth : 0;
}

/**
 * Waits until both function queues of an embedded deployment are empty (every message handled and
 * acknowledged) and stay empty for a few event-loop turns. Throws after `timeoutMs` of wall time:
 * a guard against a stuck run, not a sleep.
 */
export async function drain(
  service: { readonly ports: Pick<EmbeddedPorts, 'writerQueue' | 'distributorQueue'> },
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let quiet = 0;
  while (quiet < 3) {
    await settle(3);
    const busy = queueDepth(service.ports.writerQueue) + queueDepth(service.ports.distributorQueue);
    quiet = busy === 0 ? quiet + 1 : 0;
    if (Date.now() > deadline)
      throw new Error(`the deployment did not drain within ${timeoutMs} ms (${busy} messages left)`);
    if (busy > 0) await new Promise<void>((resolve) => setTimeout(resolve, 1));
  }
}

/** Whether {@link drain} can count this queue's messages (the in-memory queue can; SQS, Pub/Sub cannot). */
export function countsDepth(queue: Queue): boolean {
  return typeof (unwrapPort(queue) as { depth?: unknown }).depth === 'number';
}

/**
 * Watches the functions' port calls (wrap it around them), so that a deployment whose queues
 * cannot be counted can still be seen to be idle: no call under way, none begun or ended lately.
 * A queue receive that finds nothing (a poller's idle long poll) is not activity.
 */
export class ActivityMonitor {
  private running = 0;
  private seen = 0;
  private readonly open = new Map<string, number>();
  /**
   * Off, calls pass straight through (the same promise, no extra event-loop turn), so that a run
   * whose queues can be counted keeps its interleavings. Calls begun while off are never counted.
   */
  enabled = true;

  /** Calls under way now (receives excluded). */
  get inFlight(): number {
    return this.running;
  }

  /** Grows with every call begun or ended, and with every receive that returned messages. */
  get activity(): number {
    return this.seen;
  }

  /** The calls under way now, by port and method (`systemStore.transact: 1`), for diagnostics. */
  underWay(): string {
    return [...this.open]
      .filter(([, n]) => n > 0)
      .map(([call, n]) => `${call}: ${n}`)
      .join(', ');
  }

  /** Pass inside `DeploymentOptions.wrap` (anywhere in the chain: it only counts). */
  readonly wrap: Required<PortWrappers> = {
    systemStore: (s: SystemStore) => this.port(s, PORT_METHODS.systemStore, 'systemStore'),
    userStore: (s: UserStore) => this.port(s, PORT_METHODS.userStore, 'userStore'),
    writerQueue: (q: Queue) => this.port(q, PORT_METHODS.queue, 'writerQueue'),
    distributorQueue: (q: Queue) => this.port(q, PORT_METHODS.queue, 'distributorQueue'),
    channel: (c: Channel) => this.port(c, PORT_METHODS.channel, 'channel'),
  };

  private port<T extends object>(inner: T, methods: readonly string[], name: string): T {
    return interceptPort(inner, methods, (method, _args, call) =>
      !this.enabled || method === 'subscribe' ? call() : this.count(`${name}.${method}`, method, call),
    );
  }

  private async count(what: string, method: string, call: () => Promise<unknown>): Promise<unknown> {
    if (method === 'receive') {
      const messages = await call();
      if (Array.isArray(messages) && messages.length > 0) this.seen++;
      return messages;
    }
    this.running++;
    this.seen++;
    this.open.set(what, (this.open.get(what) ?? 0) + 1);
    try {
      return await call();
    } finally {
      this.running--;
      this.seen++;
      this.open.set(what, (this.open.get(what) ?? 1) - 1);
    }
  }
}

/**
 * Waits until a deployment whose queues cannot be counted is idle: no function port call under way
 * or begun during two consecutive `quiet()` windows, and the user store visible up to the writer's
 * zxid ({@link visibleZxid}: every committed batch applied). Clients must have stopped sending. Throws after `timeoutMs`
 * of wall time.
 */
export async function drainIdle(
  stores: FinalStateStores,
  monitor: ActivityMonitor,
  quiet: () => Promise<void>,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const startActivity = monitor.activity;
  const system = unwrapPort(stores.ports.systemStore);
  const user = unwrapPort(stores.ports.userStore);
  let idle = 0;
  let why = '';
  while (idle < 2) {
    const before = monitor.activity;
    await quiet();
    const state = (await system.get<WriterState>({ kind: 'meta', id: WRITER_STATE_ID }))?.value;
    const zxid = state?.zxid;
    const watermark = await visibleZxid(user, system, state);
    const still = monitor.inFlight === 0 && monitor.activity === before;
    idle = still && zxid === watermark ? idle + 1 : 0;
    // Busy is not stuck: say how much the functions did meanwhile, and what ran at the last look.
    const calls = Math.floor((monitor.activity - startActivity) / 2);
    why =
      `still busy: ~${calls} port calls made while waiting; watermark ${watermark}, writer zxid ${zxid}` +
      (monitor.inFlight > 0 ? `; under way at the last look: ${monitor.underWay()}` : '');
    if (idle < 2 && Date.now() > deadline)
      throw new Error(`the deployment did not become idle within ${timeoutMs} ms (${why})`);
  }
}

/**
 * How far the user store is visible: its watermark, or the zxid of a record the distributor wrote
 * last, `complete`, in place of the watermark, when that is newer (distributor/closing-record.ts). The record of the writer's last
 * batch is looked at first; when that batch wrote none (a read through the writer came after the
 * setData), every node's record is (test tooling: a deployment's tree is small here).
 */
export async function visibleZxid(
  user: UserStore,
  system: SystemStore,
  stored: WriterState | undefined,
): Promise<number> {
  const watermark = await user.getWatermark();
  if (stored === undefined || stored.zxid <= watermark) return watermark;
  const batch = unpackState(stored).last?.output;
  const written = new Set(
    (batch?.items ?? []).flatMap((item) => (item.type === 'txn' ? item.writes : [])).map((w) => w.path),
  );
  const paths =
    written.size === 1 ? [...written] : (await system.list<SystemNodeItem>('node')).map((item) => item.id);
  let visible = watermark;
  for (const path of paths) {
    const record = await user.get(path);
    if (record?.complete === true && record.txZxid > visible) visible = record.txZxid;
  }
  return visible;
}

const sameStat = (a: object, b: object) => JSON.stringify(a) === JSON.stringify(b);

/**
 * What {@link checkFinalState} reads: a deployment's system and user stores (the embedded
 * deployment and the local provider deployments have them as `ports`; a portable run passes the
 * stores it captured through `DeploymentOptions.wrap`).
 */
export interface FinalStateStores {
  readonly ports: Pick<EmbeddedPorts, 'systemStore' | 'userStore'>;
}

/**
 * Checks that a drained deployment is consistent, reading the stores directly (past any fault
 * wrappers). Returns the problems found (empty: consistent):
 * - the tree: every node's parent exists, `numChildren` equals the number of nodes under it, `cversion` adds up (each child create and delete counts once), zxids are ordered;
 * - sessions: every ephemeral belongs to a live session that lists it, and no watch registration,
 *   persistent watch, marker or watched-path list names a closed session;
 * - the user store equals the system store: one live record per node with the same Stat (and no
 *   child list), each node's child index listing exactly its children at their czxid, data of the
 *   Stat's length, no leftover record or tombstone, the watermark at the
 *   writer's zxid. Leftover records of nodes that do not exist are found only where the user store
 *   can list its paths (the in-memory one), and at the `probe` paths (those a run used) anywhere.
 */
export async function checkFinalState(
  service: FinalStateStores,
  options: { probe?: readonly string[] } = {},
): Promise<string[]> {
  const problems: string[] = [];
  const system = unwrapPort(service.ports.systemStore);
  const user = unwrapPort(service.ports.userStore);
  const state = (await system.get<WriterState>({ kind: 'meta', id: WRITER_STATE_ID }))?.value;
  if (state === undefined) return ['the writer state is missing'];
  const items = await system.list<SystemNodeItem>('node');
  const sessions = new Map<number, SessionItem>();
  for (const s of await system.list<SessionItem>('session')) sessions.set(s.value.id, s.value);
  const nodes = new Map<string, SystemNodeItem>();
  // The writer's view: child Stats it keeps in its state laid over the items (writer/child-stats.ts).
  const childStats = unpackState(state).childStats ?? {};
  for (const item of items) nodes.set(item.id, withChildStat(item.value, childStats[item.id]));
  if (nodes.get('/')?.node === undefined) problems.push('the root is missing');
  // A node's children are the node items under it (no item holds a list): name → czxid.
  const childrenOf = new Map<string, Map<string, number>>();
  for (const [path, item] of nodes) {
    if (path === '/' || item.node === undefined) continue;
    const parent = parentPath(path);
    let names = childrenOf.get(parent);
    if (names === undefined) {
      names = new Map();
      childrenOf.set(parent, names);
    }
    names.set(baseName(path), item.node.stat.czxid);
  }

  for (const [path, item] of nodes) {
    for (const s of [...(item.dataWatches ?? []), ...(item.childWatches ?? [])])
      if (!sessions.has(s)) problems.push(`${path}: a watch of closed session ${s} is left`);
    if (new Set(item.dataWatches ?? []).size !== (item.dataWatches ?? []).length)
      problems.push(`${path}: a data watch is registered twice`);
    if (new Set(item.childWatches ?? []).size !== (item.childWatches ?? []).length)
      problems.push(`${path}: a child watch is registered twice`);
    const node = item.node;
    if (node === undefined) {
      if ((item.dataWatches ?? []).length === 0 && (item.childWatches ?? []).length === 0)
        problems.push(`${path}: an empty item (no node, no watches) is left`);
      continue;
    }
    const { stat } = node;
    if (node.children !== undefined) problems.push(`${path}: the item still holds a child list`);
    const children = childrenOf.get(path) ?? new Map<string, number>();
    if (path !== '/' && nodes.get(parentPath(path))?.node === undefined)
      problems.push(`${path}: its parent does not exist`);
    if (stat.numChildren !== children.size)
      problems.push(`${path}: numChildren ${stat.numChildren} but ${children.size} children`);
    if (stat.cversion < stat.numChildren || (stat.cversion - stat.numChildren) % 2 !== 0)
      problems.push(`${path}: cversion ${stat.cversion} does not add up with ${stat.numChildren} children`);
    if (stat.version < 0) problems.push(`${path}: version ${stat.version}`);
    if (stat.mzxid < stat.czxid || stat.pzxid < stat.czxid)
      problems.push(
        `${path}: zxids out of order (czxid ${stat.czxid}, mzxid ${stat.mzxid}, pzxid ${stat.pzxid})`,
      );
    if (Math.max(stat.czxid, stat.mzxid, stat.pzxid) > state.zxid)
      problems.push(`${path}: a zxid beyond the writer's ${state.zxid}`);
    if (stat.ephemeralOwner !== 0) {
      const owner = sessions.get(stat.ephemeralOwner);
      if (owner === undefined) problems.push(`${path}: ephemeral of closed session ${stat.ephemeralOwner}`);
      else if (!owner.ephemerals.includes(path))
        problems.push(`${path}: session ${stat.ephemeralOwner} does not list its ephemeral`);
    }
    const found: NodeRecord | undefined = await user.get(path);
    // A node without world READ: a stub in the open zone, its record in the protected one.
    const zone: Zone = worldReadable(node.acl) ? 'open' : 'protected';
    if (found !== undefined && (found.protected === true) !== (zone === 'protected'))
      problems.push(
        `${path}: a ${found.protected === true ? 'stub' : 'record'} in the open zone for its ACL`,
      );
    if (found?.protected === true && (found.data.byteLength > 0 || found.acl !== undefined))
      problems.push(`${path}: the stub holds data or an ACL`);
    const record = found?.protected === true ? await user.get(path, 'protected') : found;
    if (record === undefined) problems.push(`${path}: no user-store record`);
    else {
      if (record.deleted) problems.push(`${path}: the user store holds a tombstone for a live node`);
      if (!sameStat(record.stat, stat))
        problems.push(`${path}: user-store Stat ${JSON.stringify(record.stat)} != ${JSON.stringify(stat)}`);
      if ('children' in record) problems.push(`${path}: the user-store record still holds a child list`);
      if (record.data.byteLength !== stat.dataLength)
        problems.push(`${path}: ${record.data.byteLength} bytes of data, dataLength ${stat.dataLength}`);
    }
  }
  for (const [path, item] of nodes)
    if (item.node !== undefined) {
      const zone: Zone = worldReadable(item.node.acl) ? 'open' : 'protected';
      problems.push(...(await indexProblems(user, path, childrenOf.get(path), zone)));
      // Nothing of it is left in the other zone (a zone change carries the entries across).
      const other: Zone = zone === 'open' ? 'protected' : 'open';
      if ((await user.listChildren(path, other)).length > 0)
        problems.push(`${path}: child index entries left in the ${other} zone`);
      if (zone === 'open' && (await user.get(path, 'protected')) !== undefined)
        problems.push(`${path}: a protected record is left for a world-readable node`);
    }
  for (const [id, s] of sessions)
    for (const p of s.ephemerals)
      if (nodes.get(p)?.node?.stat.ephemeralOwner !== id)
        problems.push(`session ${id}: lists ephemeral ${p}, which it does not own`);
  for (const w of state.persistentWatches ?? [])
    if (!sessions.has(w.session))
      problems.push(`persistent watch of closed session ${w.session} on ${w.path}`);
  for (const { value: w } of await system.list<{ session: number; path: string }>('pwatch'))
    if (!sessions.has(w.session))
      problems.push(`persistent watch item of closed session ${w.session} on ${w.path}`);
  // Overflow registrations: every one is of an open generation of its node item (fired ones are
  // removed after the batch that fired them) and of a live session.
  for (const { id, value } of await system.list<{ session: number }>('watch')) {
    const [path, cls, gen] = id.split('\u0001');
    const item = nodes.get(path ?? '');
    const open = cls === 'd' ? item?.dataWatchGen : item?.childWatchGen;
    if (open === undefined || open !== Number(gen))
      problems.push(`registration ${JSON.stringify(id)} of a fired or unknown generation is left`);
    if (!sessions.has(value.session))
      problems.push(`registration of closed session ${value.session} on ${path}`);
  }
  const cleanups = await system.list<{ session?: number }>('cleanup');
  if (cleanups.some((c) => c.value.session === undefined) || state.firedGenerations !== undefined)
    problems.push('fired watch generations are still to be removed');
  for (const c of cleanups)
    if (c.value.session !== undefined)
      problems.push(`the watches of closed session ${c.value.session} are still being removed`);
  if (state.endedSessions !== undefined)
    problems.push(`the writer state counts ${state.endedSessions} ended sessions with watches left`);
  if (state.epoch !== undefined) problems.push('the writer state still holds the per-session epoch map');
  // Markers of closed sessions are removed with their channels; only the in-memory store lists them.
  if (user instanceof MemoryUserStore)
    for (const sid of user.markerSessions())
      if (!sessions.has(sid)) problems.push(`marker of closed session ${sid}`);
  for (const c of state.watchCleanup ?? [])
    problems.push(`the watches of closed session ${c.session} are still being removed`);
  for (const item of await system.list('meta')) {
    const [prefix, sid] = item.id.split(':');
    if (prefix === 'watches' && !sessions.has(Number(sid)))
      problems.push(`watched-path list ${item.id} of closed session ${sid} is left`);
  }

  const watermark = await visibleZxid(user, system, state);
  if (watermark !== state.zxid) problems.push(`watermark ${watermark} != writer zxid ${state.zxid}`);
  // A store that cannot list its paths (S3, Datastore) is probed where the run wrote.
  const listed = (user as { paths?: () => string[] }).paths?.() ?? [];
  for (const p of new Set([...listed, ...(options.probe ?? [])]))
    if (nodes.get(p)?.node === undefined) {
      for (const zone of ['open', 'protected'] as const) {
        const r = await user.get(p, zone);
        if (r !== undefined)
          problems.push(
            `${p}: user-store ${r.deleted ? 'tombstone' : 'record'} (${zone} zone) of a node that does not exist`,
          );
        problems.push(...(await indexProblems(user, p, undefined, zone)));
      }
    }
  return problems;
}

/**
 * How the user store's child index of `path` differs from its children in the system store
 * (`children`: name → czxid; undefined for a node that does not exist). Once drained, the index
 * holds exactly one live entry per child, of its current life, and no tombstone.
 */
async function indexProblems(
  user: FinalStateStores['ports']['userStore'],
  path: string,
  children: ReadonlyMap<string, number> | undefined,
  zone: Zone,
): Promise<string[]> {
  const problems: string[] = [];
  const listed = new Map<string, number>();
  for (const e of await user.listChildren(path, zone)) {
    if (e.dzxid !== undefined)
      problems.push(`${path}: child index tombstone ${e.name}@${e.czxid}~${e.dzxid} is left`);
    else if (listed.has(e.name)) problems.push(`${path}: child ${e.name} is indexed twice`);
    else listed.set(e.name, e.czxid);
  }
  for (const [name, czxid] of children ?? [])
    if (listed.get(name) !== czxid)
      problems.push(`${path}: child ${name} (czxid ${czxid}) indexed as ${listed.get(name) ?? 'missing'}`);
  for (const name of listed.keys())
    if (children?.has(name) !== true) problems.push(`${path}: the index lists ${name}, which does not exist`);
  return problems;
}
