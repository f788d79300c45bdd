/** create (all four opcodes), multi, multiRead and check. */
import {
  CreateMode,
  type CreateOptions,
  ErrorCodes,
  FaaSKeeperError,
  isFaaSKeeperError,
  type Op,
} from '@faaskeeper/core';
import { createModeOf, Err, errnoOf, OpCode } from './codes.js';
import { type OpContext, toJStat, ZERO_STAT } from './context.js';
import type { Infer } from './jute/codec.js';
import type { MultiOp, MultiResult } from './jute/multi.js';
import type { CreateTTLRequest, JStat } from './jute/records.js';

type CreateReq = Omit<Infer<typeof CreateTTLRequest>, 'ttl'> & { ttl?: bigint };
const EPHEMERAL: readonly CreateMode[] = [CreateMode.EPHEMERAL, CreateMode.EPHEMERAL_SEQUENTIAL];
const TTL: readonly CreateMode[] = [
  CreateMode.PERSISTENT_WITH_TTL,
  CreateMode.PERSISTENT_SEQUENTIAL_WITH_TTL,
];

/**
 * The core create options of a create request of opcode `type`, checked as ZooKeeper does: known
 * flags, a non-empty ACL (INVALIDACL), a TTL exactly with the TTL modes and createTTL. The ACL
 * goes with the create: the writer checks and stores it.
 */
export function createOptions(type: number, req: CreateReq): CreateOptions {
  const mode = createModeOf(req.flags);
  if (mode === undefined)
    throw new FaaSKeeperError('BADARGUMENTS', `BADARGUMENTS: bad create flags ${req.flags}`, {
      path: req.path,
    });
  // The writer judges the ACL (INVALIDACL) and stores it; an empty one is refused here already.
  if (req.acl.length === 0)
    throw new FaaSKeeperError('INVALIDACL', 'INVALIDACL: empty ACL', { path: req.path });
  const acl = req.acl.map((a) => ({ perms: a.perms, id: { scheme: a.id.scheme, id: a.id.id } }));
  const ttl = TTL.includes(mode);
  if (ttl !== (type === OpCode.createTTL))
    throw new FaaSKeeperError('BADARGUMENTS', `BADARGUMENTS: ${mode} with opcode ${type}`, {
      path: req.path,
    });
  if (type === OpCode.createContainer && mode !== CreateMode.CONTAINER)
    throw new FaaSKeeperError('BADARGUMENTS', `BADARGUMENTS: createContainer with ${mode}`, {
      path: req.path,
    });
  return ttl && req.ttl !== undefined ? { mode, ttlMs: Number(req.ttl), acl } : { mode, acl };
}

/** create, create2, createContainer, createTTL: the created path, and (but for create) its Stat. */
export async function create(ctx: OpContext, type: number, req: CreateReq): Promise<MultiResult> {
  const options = createOptions(type, req);
  const { path, stat } = await ctx.session.client.createWithStat(req.path, req.data, options);
  if (options.mode !== undefined && EPHEMERAL.includes(options.mode)) ctx.session.ephemerals.add(path);
  return type === OpCode.create
    ? { type: 1, res: { path } }
    : { type: 15, res: { path, stat: toJStat(stat) } };
}

const failed = (count: number, at: number, err: number): MultiResult[] =>
  Array.from({ length: count }, (_, i) => ({
    type: -1 as const,
    err: i < at ? Err.OK : i === at ? err : Err.RUNTIMEINCONSISTENCY,
  }));

/** The Stat of a node just written (the core's multi results carry none for creates and checks). */
async function statOf(ctx: OpContext, path: string): Promise<JStat> {
  const stat = await ctx.session.client.exists(path);
  return stat === null ? ZERO_STAT : toJStat(stat);
}

/**
 * multi: all ops or none. A failed multi answers err 0 with one error result per op (OK before
 * the failing one, its code, RUNTIMEINCONSISTENCY after), as ZooKeeper does.
 * A create2-style sub-result's Stat is read just after the multi (the core returns only paths).
 */
export async function multi(
  ctx: OpContext,
  ops: MultiOp[],
): Promise<{ err: number; results: MultiResult[] }> {
  const coreOps: Op[] = [];
  for (const [i, o] of ops.entries()) {
    try {
      switch (o.type) {
        case 1:
        case 15:
        case 19:
        case 21: {
          const options = createOptions(o.type, o.req);
          coreOps.push({ op: 'create', path: o.req.path, data: o.req.data, ...options });
          break;
        }
        case 2:
          coreOps.push({ op: 'delete', path: o.req.path, version: o.req.version });
          break;
        case 13:
          coreOps.push({ op: 'check', path: o.req.path, version: o.req.version });
          break;
        case 5:
          coreOps.push({ op: 'setData', path: o.req.path, data: o.req.data, version: o.req.version });
          break;
        default:
          throw new FaaSKeeperError('BADARGUMENTS', 'BADARGUMENTS: a read op in a multi');
      }
    } catch (error) {
      return { err: Err.OK, results: failed(ops.length, i, errnoOf(error)) };
    }
  }
  let results: Awaited<ReturnType<typeof ctx.session.client.multi>>;
  try {
    results = await ctx.session.client.multi(coreOps);
  } catch (error) {
    if (isFaaSKeeperError(error) && error.results !== undefined)
      return { err: Err.OK, results: error.results.map((r) => ({ type: -1, err: ErrorCodes[r.code] })) };
    throw error;
  }
  const out: MultiResult[] = [];
  for (const [i, res] of results.entries()) {
    const o = ops[i]!;
    if (res.op === 'create') {
      const c = coreOps[i] as Extract<Op, { op: 'create' }>;
      if (c.mode !== undefined && EPHEMERAL.includes(c.mode)) ctx.session.ephemerals.add(res.path);
      out.push(
        o.type === 1
          ? { type: 1, res: { path: res.path } }
          : { type: 15, res: { path: res.path, stat: await statOf(ctx, res.path) } },
      );
    } else if (res.op === 'setData') out.push({ type: 5, res: { stat: toJStat(res.stat) } });
    else out.push({ type: res.op === 'delete' ? 2 : 13 });
  }
  return { err: Err.OK, results: out };
}

/** multiRead: getData and getChildren ops, each answered with its result or its error. */
export async function multiRead(ctx: OpContext, ops: MultiOp[]): Promise<MultiResult[]> {
  const client = ctx.session.client;
  return Promise.all(
    ops.map(async (o): Promise<MultiResult> => {
      try {
        if (o.type === OpCode.getData) {
          const { data, stat, nullData } = await client.getData(o.req.path);
          return { type: 4, res: { data: nullData === true ? null : data, stat: toJStat(stat) } };
        }
        if (o.type === OpCode.getChildren) {
          const { children } = await client.getChildren(o.req.path);
          return { type: 8, res: { children } };
        }
        return { type: -1, err: Err.BADARGUMENTS };
      } catch (error) {
        return { type: -1, err: errnoOf(error) };
      }
    }),
  );
}

/** check (13) on its own: a one-op multi; answers the node's Stat. */
export async function check(ctx: OpContext, path: string, version: number): Promise<JStat> {
  try {
    await ctx.session.client.multi([{ op: 'check', path, version }]);
  } catch (error) {
    const code = isFaaSKeeperError(error) ? error.results?.find((r) => r.code !== 'OK')?.code : undefined;
    throw code === undefined ? error : new FaaSKeeperError(code, `${code}: ${path}`, { path });
  }
  return statOf(ctx, path);
}
