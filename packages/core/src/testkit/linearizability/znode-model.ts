import type { Model, Operation } from './checker.js';

/** An op of a multi in the znode model. */
export type ZMultiOp =
  | { op: 'create'; path: string; data: string }
  | { op: 'set'; path: string; data: string; version: number }
  | { op: 'delete'; path: string; version: number }
  | { op: 'check'; path: string; version: number };

/** An operation on znodes (versions: -1 means any). */
export type ZInput =
  | { op: 'get'; path: string }
  | { op: 'exists'; path: string }
  | { op: 'create'; path: string; data: string }
  | { op: 'set'; path: string; data: string; version: number }
  | { op: 'delete'; path: string; version: number }
  | { op: 'multi'; ops: ZMultiOp[] };

/** Error codes the model knows. */
export type ZErrorCode = 'NONODE' | 'NODEEXISTS' | 'BADVERSION';

/**
 * What an operation returned. `unknown`: it failed with CONNECTIONLOSS / OPERATIONTIMEOUT (or its
 * session ended) and may or may not have taken effect.
 */
export type ZOutput =
  | { type: 'unknown' }
  | { type: 'error'; code: ZErrorCode }
  | { type: 'ok'; data?: string; version?: number | null };

/** A znode as the model sees it (absent: `undefined`). */
export interface ZNode {
  data: string;
  version: number;
}

/** Model state: the znodes of one partition. */
export type ZState = ReadonlyMap<string, ZNode>;

type Applied = { state: Map<string, ZNode>; error?: ZErrorCode; data?: string; version?: number | null };

function apply(state: ZState, input: ZInput): Applied {
  const next = new Map(state);
  const one = (op: ZMultiOp | Exclude<ZInput, { op: 'multi' }>): Omit<Applied, 'state'> => {
    const node = next.get(op.path);
    switch (op.op) {
      case 'get':
        return node === undefined ? { error: 'NONODE' } : { data: node.data, version: node.version };
      case 'exists':
        return { version: node === undefined ? null : node.version };
      case 'create':
        if (node !== undefined) return { error: 'NODEEXISTS' };
        next.set(op.path, { data: op.data, version: 0 });
        return {};
      case 'set':
        if (node === undefined) return { error: 'NONODE' };
        if (op.version !== -1 && op.version !== node.version) return { error: 'BADVERSION' };
        next.set(op.path, { data: op.data, version: node.version + 1 });
        return { version: node.version + 1 };
      case 'delete':
        if (node === undefined) return { error: 'NONODE' };
        if (op.version !== -1 && op.version !== node.version) return { error: 'BADVERSION' };
        next.delete(op.path);
        return {};
      case 'check':
        if (node === undefined) return { error: 'NONODE' };
        if (op.version !== -1 && op.version !== node.version) return { error: 'BADVERSION' };
        return {};
    }
  };
  if (input.op !== 'multi') return { state: next, ...one(input) };
  for (const op of input.ops) {
    const r = one(op);
    // A failed multi applies nothing and reports its first failing op.
    if (r.error !== undefined) return { state: new Map(state), error: r.error };
  }
  return { state: next };
}

const unchanged = (input: ZInput) => input.op === 'get' || input.op === 'exists';

/**
 * The sequential specification of znodes with data and versions: get, exists, (conditional) set,
 * create, (conditional) delete and multi. Keys are paths, so operations on different paths are
 * checked apart. `initial` gives nodes that exist before the history (all others are absent).
 */
export function znodeModel(initial: Record<string, ZNode> = {}): Model<ZState, ZInput, ZOutput> {
  return {
    init: () => new Map(Object.entries(initial)),
    step(state, input, output) {
      const r = apply(state, input);
      if (output.type === 'unknown') {
        // Took effect (whatever it found). "Never took effect" is the op linearized after everything.
        return unchanged(input) ? state : r.state;
      }
      if (output.type === 'error') return r.error === output.code ? r.state : undefined;
      if (r.error !== undefined) return undefined;
      if (input.op === 'get' && (output.data !== r.data || output.version !== r.version)) return undefined;
      if (input.op === 'exists' && output.version !== r.version) return undefined;
      if (input.op === 'set' && output.version !== undefined && output.version !== r.version)
        return undefined;
      return r.state;
    },
    hash(state) {
      return JSON.stringify([...state.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    },
    keys(input) {
      return input.op === 'multi' ? [...new Set(input.ops.map((o) => o.path))] : [input.path];
    },
    describe(op: Operation<ZInput, ZOutput>) {
      return `${JSON.stringify(op.input)} -> ${JSON.stringify(op.output)}`;
    },
  };
}
