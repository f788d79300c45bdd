/** The building blocks of the message schemas: fields, refusal messages, the rules of data and creates. */
import * as v from 'valibot';
import { CreateMode } from '../model/create-mode.js';
import { MAX_DATA_BYTES } from '../model/limits.js';
import { pathProblem } from '../model/path.js';

/** Version of the formats below; a reader refuses what it does not know. */
export const PROTOCOL_VERSION = 1;

/**
 * Untrusted input quoted in an error: short, and never a throw. JSON.stringify throws on deeply
 * nested values, and an unbounded echo (quotes double in size at each encoding) could outgrow the
 * queue and channel limits and make the reply itself a poison message.
 */
export function show(value: unknown, max = 100): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch {
    // Circular or too deeply nested: the type alone still tells the sender what was wrong.
    text = undefined;
  }
  text ??= `(${typeof value})`;
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

export type Entries = v.ObjectEntries;

/**
 * An object schema whose missing-field message is the field's own (its schema run on `undefined`),
 * so "request needs an id" reads the same whether the id is absent or malformed.
 */
export function record<const E extends Entries>(entries: E, notObject = 'must be an object') {
  return v.object(entries, (issue) => {
    const key = issue.path?.[0]?.origin === 'key' ? issue.path[0].key : undefined;
    if (typeof key !== 'string') return notObject;
    const field = entries[key];
    const missing = field === undefined ? undefined : v.safeParse(field, undefined).issues?.[0].message;
    return missing ?? `${key} is missing`;
  });
}

/**
 * A safe integer of at least `min`; `what` is the whole refusal message. One predicate rather than
 * a pipe of number, integer and bound checks: integers are most of every message's fields, and a
 * pipe's per-action dataset handling was a third of the checking cost of a write.
 */
const atLeast = (min: number, what: string) =>
  v.custom<number>((x) => typeof x === 'number' && Number.isSafeInteger(x) && x >= min, what);
/** An option of a {@link tagged} union: an object schema (or a pipe on one) with a literal tag. */
type TaggedOption<K extends string> = v.GenericSchema & { entries: Record<K, v.GenericSchema> };

/**
 * A discriminated union, as `v.variant(key, options, message)`, that finds its option by the tag's
 * value in a map instead of trying each option's tag schema in turn. Every message is such a union
 * nested two or three deep, and the variant's per-call set, closure and tag datasets were a third
 * of what checking a write cost. Same issues as the variant: an input whose tag names no option
 * (or that is not an object) is handed to the variant itself, which reports it.
 */
export function tagged<K extends string, const O extends v.VariantOptions<K>>(
  key: K,
  options: O,
  message?: v.ErrorMessage<v.VariantIssue>,
): v.VariantSchema<K, O, v.ErrorMessage<v.VariantIssue> | undefined> {
  const union = v.variant(key, options, message);
  const byTag = new Map<unknown, TaggedOption<K>>();
  for (const option of options as readonly TaggedOption<K>[]) {
    const tag = option.entries[key] as unknown as { type: string; literal?: unknown };
    if (tag.type !== 'literal') throw new TypeError(`option's ${key} must be a literal`);
    byTag.set(tag.literal, option);
  }
  return {
    ...union,
    '~run'(dataset, config) {
      const input = dataset.value;
      const option =
        input !== null && typeof input === 'object'
          ? byTag.get((input as Record<string, unknown>)[key])
          : undefined;
      // biome-ignore lint/suspicious/noExplicitAny: the option's output is the union's output.
      return (option ?? union)['~run'](dataset, config) as any;
    },
  };
}

/** A safe integer; `what` is the whole refusal message. */
export const int = (what: string) => v.custom<number>((x) => Number.isSafeInteger(x), what);
export const natural = (what: string) => atLeast(0, what);
export const zxid = int('a zxid must be an integer');
export const sessionId = natural('a session id must be an integer ≥ 0');
export const version = atLeast(-1, 'version must be an integer ≥ -1');

/** A node path by ZooKeeper's rules (a create's path is checked with its mode, see `createRules`). */
export const path = v.pipe(
  v.string((issue) => `path must be a string: ${show(issue.input, 200)}`),
  v.rawCheck(({ dataset, addIssue }) => {
    if (!dataset.typed) return;
    const problem = pathProblem(dataset.value);
    if (problem !== undefined) addIssue({ message: `${problem}: ${show(dataset.value, 200)}` });
  }),
);
/** A path as the distributor and readers see it: written by the writer, which checked it. */
export const anyPath = v.string('path must be a string');

// Any Uint8Array, whatever its buffer (v.instance would narrow it to Uint8Array<ArrayBuffer>).
export const bytes = v.custom<Uint8Array>((x) => x instanceof Uint8Array, 'data must be bytes');
/** Node data in a request: bytes, at most {@link MAX_DATA_BYTES}. */
export const data = v.pipe(
  bytes,
  v.check(
    (d) => d.byteLength <= MAX_DATA_BYTES,
    (issue) => `data is ${(issue.input as Uint8Array).byteLength} bytes, over the limit of ${MAX_DATA_BYTES}`,
  ),
);

/**
 * Marks data that is ZooKeeper's null (`create(path, null, …)`, `setData(path, null, -1)`), not
 * empty bytes: `data` is then empty and reads answer null (length -1 on ZooKeeper's wire); Stat's
 * dataLength is 0 either way. Absent means not null, so the common case costs no bytes and records
 * written before the flag existed read as before.
 */
export const nullData = v.exactOptional(
  v.literal(true, (issue) => `nullData must be true when present, not ${show(issue.input)}`),
);
/** Ops other than create and setData carry no data, so no null-data flag either. */
export const noNullData = v.exactOptional(v.never('nullData is only allowed on create and setData'));

/**
 * The null-data flag of a create or setData: the data is ZooKeeper's null (`create(path, null, …)`),
 * `data` then being empty. Absent means not null.
 */
export interface NullDataFlag {
  nullData?: true;
}

/** Null data comes with empty bytes. */
export function nullDataRule<T extends { data: Uint8Array; nullData?: true }>(): v.RawCheckAction<T> {
  return v.rawCheck<T>(({ dataset, addIssue }) => {
    if (dataset.typed && dataset.value.nullData === true && dataset.value.data.byteLength > 0)
      addIssue({ message: 'null data must come with empty bytes' });
  });
}

/** An identity, ZooKeeper's `Id`: a scheme (`world`, `digest`, `ip`, `auth`, `super`) and an id in it. */
export const aclId = record({
  scheme: v.string('an ACL id needs a scheme'),
  id: v.string('an ACL id needs an id'),
});
/**
 * One entry of a node's ACL, ZooKeeper's `ACL`: the permission bits (READ 1, WRITE 2, CREATE 4,
 * DELETE 8, ADMIN 16) granted to `id`. Any 32-bit integer is kept as ZooKeeper keeps it; unknown
 * bits grant nothing.
 */
export const aclEntry = record({
  perms: v.custom<number>(
    (x) => Number.isSafeInteger(x) && (x as number) >= -(2 ** 31) && (x as number) < 2 ** 31,
    'ACL perms must be a 32-bit integer',
  ),
  id: aclId,
});
/** A node's ACL as a request carries it (checked further by the writer: INVALIDACL). */
export const aclList = v.array(aclEntry, 'acl must be an array of ACL entries');

/** An identity (see {@link aclId}). */
export type Id = v.InferOutput<typeof aclId>;
/** One ACL entry (see {@link aclEntry}). */
export type ACL = v.InferOutput<typeof aclEntry>;

export const createMode = v.picklist(
  Object.values(CreateMode),
  (issue) => `unknown create mode ${show(issue.input)}`,
);

/** A create's TTL goes with a TTL mode only; its path may end in '/' when the mode is sequential. */
export function createRules<
  T extends { mode: CreateMode; ttlMs?: number; path: string },
>(): v.RawCheckAction<T> {
  return v.rawCheck<T>(({ dataset, addIssue }) => {
    if (!dataset.typed) return;
    const { mode, ttlMs, path: p } = dataset.value;
    const ttl = mode.includes('TTL');
    if (ttl && !(ttlMs !== undefined && Number.isSafeInteger(ttlMs) && ttlMs > 0))
      addIssue({ message: 'a TTL mode needs ttlMs > 0' });
    else if (!ttl && ttlMs !== undefined) addIssue({ message: 'ttlMs is only allowed with a TTL mode' });
    else {
      const problem = pathProblem(p, mode.includes('SEQUENTIAL'));
      if (problem !== undefined) addIssue({ message: `${problem}: ${show(p, 200)}` });
    }
  });
}

/** The fields of a create, in a request or a multi (`path` is checked by `createRules`). */
export const createFields = {
  mode: createMode,
  ttlMs: v.exactOptional(v.number('ttlMs must be a number')),
  path: v.string((issue) => `path must be a string: ${show(issue.input, 200)}`),
  data,
  nullData,
  // Absent: ZooKeeper's OPEN_ACL_UNSAFE (world:anyone, every permission).
  acl: v.exactOptional(aclList),
};
export const setDataFields = { path, data, nullData, version };

export const READ_WATCH_KINDS = ['data', 'exists', 'children'] as const;
export const WATCH_CLASSES = ['data', 'children', 'persistent', 'recursive'] as const;
export const WATCH_EVENT_TYPES = [
  'NodeCreated',
  'NodeDeleted',
  'NodeDataChanged',
  'NodeChildrenChanged',
] as const;
export const PERSISTENT_WATCH_MODES = ['PERSISTENT', 'PERSISTENT_RECURSIVE'] as const;

export const readWatchKind = v.picklist(READ_WATCH_KINDS, 'bad watch kind');
export const watchClass = v.picklist(WATCH_CLASSES, 'bad watch classes');
export const watchEventType = v.picklist(WATCH_EVENT_TYPES, 'bad watch event type');
export const persistentWatchMode = v.picklist(PERSISTENT_WATCH_MODES, 'bad watch mode');

/** What a one-shot watch set by a read looks at. `exists` on a missing node waits for its creation. */
export type ReadWatchKind = v.InferOutput<typeof readWatchKind>;
/** Persistent watches set by `addWatch`. */
export type PersistentWatchMode = v.InferOutput<typeof persistentWatchMode>;
/** Watch classes as `removeWatches` sees them. */
export type WatchClass = v.InferOutput<typeof watchClass>;
/** The events a watch reports. */
export type WatchEventType = v.InferOutput<typeof watchEventType>;
