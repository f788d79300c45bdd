/**
 * Checks the shape of what arrives in the writer queue. The queue is reachable by every client,
 * so its input is untrusted: anything malformed becomes a clear BADARGUMENTS reply to its sender
 * (when one can be named) and never an exception that would block the queue.
 */
import { isCreateMode } from '../model/create-mode.js';
import { MAX_DATA_BYTES } from '../model/limits.js';
import { pathProblem } from '../model/path.js';
import { PROTOCOL_VERSION, type RequestOp, type WriteRequest } from './messages.js';

export type Checked =
  | { ok: true; request: WriteRequest }
  | { ok: false; problem: string; session?: number; seq?: number };

const isObj = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);
const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v);
const isVersion = (v: unknown) => isInt(v) && v >= -1;

/**
 * Untrusted input quoted in an error: short, and never a throw. JSON.stringify throws on deeply
 * nested values, and an unbounded echo (quotes double in size at each encoding) could outgrow the
 * queue and channel limits and make the reply itself a poison message.
 */
function show(v: unknown, max = 100): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(v);
  } catch {
    text = undefined;
  }
  text ??= `(${typeof v})`;
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

function checkPath(v: unknown, sequential = false): string | undefined {
  const p = pathProblem(v, sequential);
  return p === undefined ? undefined : `${p}: ${show(v, 200)}`;
}

/** The data of a create or setData: bytes, and `nullData` only as `true` beside empty bytes. */
function checkData(o: Record<string, unknown>): string | undefined {
  const v = o.data;
  if (!(v instanceof Uint8Array)) return 'data must be bytes';
  if (v.byteLength > MAX_DATA_BYTES)
    return `data is ${v.byteLength} bytes, over the limit of ${MAX_DATA_BYTES}`;
  if (o.nullData === undefined) return undefined;
  if (o.nullData !== true) return `nullData must be true when present, not ${show(o.nullData)}`;
  return v.byteLength === 0 ? undefined : 'null data must come with empty bytes';
}

/** Ops other than create and setData carry no data, so no null-data flag either. */
function checkNoNullData(o: Record<string, unknown>): string | undefined {
  return 'nullData' in o ? 'nullData is only allowed on create and setData' : undefined;
}

function checkCreate(o: Record<string, unknown>): string | undefined {
  if (!isCreateMode(o.mode)) return `unknown create mode ${show(o.mode)}`;
  const sequential = String(o.mode).includes('SEQUENTIAL');
  const ttl = String(o.mode).includes('TTL');
  if (ttl && !(isInt(o.ttlMs) && o.ttlMs > 0)) return 'a TTL mode needs ttlMs > 0';
  if (!ttl && o.ttlMs !== undefined) return 'ttlMs is only allowed with a TTL mode';
  return checkPath(o.path, sequential) ?? checkData(o);
}

function checkMultiOp(o: unknown): string | undefined {
  if (!isObj(o)) return 'multi op must be an object';
  switch (o.op) {
    case 'create':
      return checkCreate(o);
    case 'delete':
    case 'check':
      return (
        checkPath(o.path) ??
        checkNoNullData(o) ??
        (isVersion(o.version) ? undefined : 'version must be an integer ≥ -1')
      );
    case 'setData':
      return (
        checkPath(o.path) ??
        checkData(o) ??
        (isVersion(o.version) ? undefined : 'version must be an integer ≥ -1')
      );
    default:
      return `unknown multi op ${show(o.op)}`;
  }
}

function checkOp(op: Record<string, unknown>): string | undefined {
  switch (op.type) {
    case 'openSession':
      return isInt(op.timeoutMs) && op.timeoutMs > 0 ? undefined : 'timeoutMs must be a positive integer';
    case 'closeSession':
    case 'ping':
      return undefined;
    case 'create':
      return checkCreate(op);
    case 'delete':
      return checkPath(op.path) ?? (isVersion(op.version) ? undefined : 'version must be an integer ≥ -1');
    case 'setData':
      return (
        checkPath(op.path) ??
        checkData(op) ??
        (isVersion(op.version) ? undefined : 'version must be an integer ≥ -1')
      );
    case 'multi': {
      if (!Array.isArray(op.ops)) return 'multi needs ops';
      if (op.ops.length > 1000) return 'a multi holds at most 1000 ops';
      for (const o of op.ops) {
        const p = checkMultiOp(o);
        if (p !== undefined) return p;
      }
      return undefined;
    }
    case 'sync':
      return checkPath(op.path);
    case 'watchedRead':
      return (
        checkPath(op.path) ??
        (['data', 'exists', 'children'].includes(op.watch as string) ? undefined : 'bad watch kind')
      );
    case 'addWatch':
      return (
        checkPath(op.path) ??
        (op.mode === 'PERSISTENT' || op.mode === 'PERSISTENT_RECURSIVE' ? undefined : 'bad watch mode')
      );
    case 'removeWatches':
      return (
        checkPath(op.path) ??
        (Array.isArray(op.classes) &&
        op.classes.every((c) => ['data', 'children', 'persistent', 'recursive'].includes(c as string))
          ? undefined
          : 'bad watch classes')
      );
    case 'expireSession':
      return isInt(op.target) ? undefined : 'target must be a session id';
    case 'expireTtl':
      return checkPath(op.path) ?? (isInt(op.mzxid) ? undefined : 'mzxid must be an integer');
    default:
      return `unknown request type ${show(op.type)}`;
  }
}

const SYSTEM_OPS = new Set(['expireSession', 'expireTtl']);

/**
 * Checks a decoded writer-queue message. Never throws: whatever the input, the answer is a request
 * or a problem (a throw would fail the writer's batch and block the queue behind it).
 */
export function checkRequest(raw: unknown): Checked {
  try {
    return check(raw);
  } catch {
    return { ok: false, problem: 'request could not be checked' };
  }
}

function check(raw: unknown): Checked {
  if (!isObj(raw)) return { ok: false, problem: 'request must be an object' };
  const session = isInt(raw.session) && raw.session >= 0 ? raw.session : undefined;
  const seq = isInt(raw.seq) && raw.seq >= 0 ? raw.seq : undefined;
  const who = session !== undefined && session > 0 && seq !== undefined && seq > 0 ? { session, seq } : {};
  if (raw.v !== PROTOCOL_VERSION)
    return { ok: false, problem: `unsupported protocol version ${show(raw.v)}`, ...who };
  if (session === undefined || seq === undefined)
    return { ok: false, problem: 'request needs session and seq' };
  if (typeof raw.id !== 'string' || raw.id.length === 0 || raw.id.length > 200)
    return { ok: false, problem: 'request needs an id', ...who };
  if (raw.ack !== undefined && !isInt(raw.ack)) return { ok: false, problem: 'ack must be a zxid', ...who };
  if (!isObj(raw.op)) return { ok: false, problem: 'request needs an op', ...who };
  const op = raw.op;
  const problem =
    op.type === 'create' || op.type === 'setData' ? checkOp(op) : (checkNoNullData(op) ?? checkOp(op));
  if (problem !== undefined) return { ok: false, problem, ...who };
  const system = SYSTEM_OPS.has(raw.op.type as string);
  if (system !== (session === 0)) {
    return {
      ok: false,
      problem: system ? 'system requests come from the heartbeat only' : 'session 0 is reserved',
      ...who,
    };
  }
  if (!system && seq === 0) return { ok: false, problem: 'seq starts at 1', ...who };
  return { ok: true, request: raw as unknown as WriteRequest & { op: RequestOp } };
}
