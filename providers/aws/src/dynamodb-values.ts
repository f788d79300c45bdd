import type { AttributeValue } from '@aws-sdk/client-dynamodb';

/*
 * Values kept in DynamoDB items: a JSON text (`value`, type S) in which each Uint8Array is replaced
 * by `{"$b": i}`, and the bytes themselves as a list of binary attributes (`bin`, type L of B), so
 * that node data is stored raw rather than inflated by base64. Plain numbers are kept as a number
 * attribute (`n`) so that `increment` can use DynamoDB's atomic ADD.
 */

function toWire(value: unknown, parts: Uint8Array[]): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Uint8Array) {
    parts.push(value);
    return { $b: parts.length - 1 };
  }
  if (Array.isArray(value)) return value.map((v) => toWire(v, parts));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = toWire(v, parts);
  return out;
}

function fromWire(value: unknown, parts: Uint8Array[]): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => fromWire(v, parts));
  const o = value as Record<string, unknown>;
  if (typeof o.$b === 'number' && Object.keys(o).length === 1) {
    const part = parts[o.$b];
    if (part === undefined) throw new SyntaxError(`binary field ${o.$b} has no data`);
    return new Uint8Array(part); // a copy: callers may mutate what they get
  }
  for (const key of Object.keys(o)) o[key] = fromWire(o[key], parts);
  return o;
}

/** The attributes that hold a value: `n` for a plain number, else `value` (+ `bin`). */
export interface EncodedValue {
  /** Attributes to SET. */
  set: Record<string, AttributeValue>;
  /** Value attributes to REMOVE (the other representation). */
  remove: string[];
  /** Bytes the value adds to the item (for the size limit and metering). */
  bytes: number;
}

/** Encodes a JSON-like value with bytes for an item. Copies: later mutation of `value` is harmless. */
export function encodeValue(value: unknown): EncodedValue {
  if (typeof value === 'number') {
    return { set: { n: { N: String(value) } }, remove: ['value', 'bin'], bytes: 1 + 21 };
  }
  const parts: Uint8Array[] = [];
  const json = JSON.stringify(toWire(value, parts)) ?? 'null';
  const set: Record<string, AttributeValue> = {
    value: { S: json },
    bin: { L: parts.map((p) => ({ B: new Uint8Array(p) })) },
  };
  return { set, remove: ['n'], bytes: attributesBytes(set) };
}

/** Decodes what {@link encodeValue} stored. */
export function decodeValue(item: Record<string, AttributeValue>): unknown {
  const n = item.n?.N;
  if (n !== undefined) return Number(n);
  const json = item.value?.S;
  if (json === undefined) return undefined;
  const parts = (item.bin?.L ?? []).map((a) => a.B ?? new Uint8Array(0));
  return fromWire(JSON.parse(json), parts);
}

/** Size DynamoDB bills for an attribute value (UTF-8 strings, raw bytes, ~1 byte per 2 digits). */
export function attributeValueBytes(v: AttributeValue): number {
  if (v.S !== undefined) return Buffer.byteLength(v.S, 'utf8');
  if (v.N !== undefined) return Math.ceil(v.N.replace(/^-/, '').length / 2) + 1;
  if (v.B !== undefined) return v.B.byteLength;
  if (v.BOOL !== undefined || v.NULL !== undefined) return 1;
  if (v.L !== undefined) return 3 + v.L.reduce((n, e) => n + 1 + attributeValueBytes(e), 0);
  if (v.M !== undefined) return 3 + attributesBytes(v.M);
  return 0;
}

/** Size of an item (or part of one): attribute names plus values. */
export function attributesBytes(attributes: Record<string, AttributeValue>): number {
  let n = 0;
  for (const [name, v] of Object.entries(attributes))
    n += Buffer.byteLength(name, 'utf8') + attributeValueBytes(v);
  return n;
}
