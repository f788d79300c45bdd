/**
 * Deep copy of plain data (objects, arrays, primitives, Uint8Array). The in-memory adapters copy
 * every value in and out, as a cloud service would, so that no caller shares a reference with a
 * store. Faster than structuredClone for the small records the core moves.
 */
export function clone<T>(value: T): T {
  if (value === null || typeof value !== 'object') return value;
  // Uint8Array's own slice: a Buffer's `slice` is a view of the same memory, not a copy (a
  // gateway's request data is a Buffer view of its socket read, which a copy must not retain).
  if (value instanceof Uint8Array) return Uint8Array.prototype.slice.call(value) as T;
  if (Array.isArray(value)) {
    const out = new Array(value.length);
    for (let i = 0; i < value.length; i++) out[i] = clone(value[i]);
    return out as T;
  }
  const out: Record<string, unknown> = {};
  for (const key in value) {
    const v = (value as Record<string, unknown>)[key];
    if (v !== undefined) out[key] = clone(v);
  }
  return out as T;
}

/** Approximate encoded size of plain data in bytes (JSON length; bytes count as base64). */
export function approximateSize(value: unknown): number {
  if (value === null || value === undefined) return 4;
  switch (typeof value) {
    case 'string':
      return value.length + 2;
    case 'number':
    case 'boolean':
      return 8;
    case 'object': {
      if (value instanceof Uint8Array) return Math.ceil(value.byteLength / 3) * 4 + 8;
      let n = 2;
      if (Array.isArray(value)) for (const v of value) n += approximateSize(v) + 1;
      else for (const [k, v] of Object.entries(value)) n += k.length + 4 + approximateSize(v);
      return n;
    }
    default:
      return 0;
  }
}

/**
 * Freezes plain data in place, all the way down, and returns it: no copy, no allocation. A caller
 * that then changes an object or array of it gets a TypeError (ES modules are strict) rather than
 * changing it. Byte arrays cannot be frozen (a typed array with elements refuses `Object.freeze`);
 * they are left as they are. Parts frozen by an earlier call are not walked again.
 */
export function deepFreeze<T>(value: T): T {
  if (value === null || typeof value !== 'object' || ArrayBuffer.isView(value)) return value;
  if (Object.isFrozen(value)) return value;
  if (Array.isArray(value)) for (let i = 0; i < value.length; i++) deepFreeze(value[i]);
  else for (const key in value) deepFreeze((value as Record<string, unknown>)[key]);
  return Object.freeze(value);
}
