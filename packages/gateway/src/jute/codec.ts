import { type JuteReader, JuteWriter } from './io.js';

/** How one jute type is written and read. */
export interface Codec<T> {
  write(w: JuteWriter, value: T): void;
  read(r: JuteReader): T;
}

/** The value type a codec reads. */
export type Infer<C> = C extends Codec<infer T> ? T : never;

export const int: Codec<number> = { write: (w, v) => w.int(v), read: (r) => r.int() };
export const long: Codec<bigint> = { write: (w, v) => w.long(v), read: (r) => r.long() };
export const bool: Codec<boolean> = { write: (w, v) => w.bool(v), read: (r) => r.bool() };
export const ustring: Codec<string> = { write: (w, v) => w.ustring(v), read: (r) => r.ustring() };
export const buffer: Codec<Uint8Array> = { write: (w, v) => w.buffer(v), read: (r) => r.buffer() };
/** Node data: a buffer, or null (-1), which ZooKeeper keeps apart from empty data. */
export const nullableBuffer: Codec<Uint8Array | null> = {
  write: (w, v) => w.nullableBuffer(v),
  read: (r) => r.nullableBuffer(),
};

/** A jute vector of `element`. */
export function vector<T>(element: Codec<T>): Codec<T[]> {
  return {
    write(w, values) {
      w.int(values.length);
      for (const v of values) element.write(w, v);
    },
    read(r) {
      const n = r.count();
      const out: T[] = [];
      for (let i = 0; i < n; i++) out.push(element.read(r));
      return out;
    },
  };
}

// biome-ignore lint/suspicious/noExplicitAny: a codec is invariant in its type; any lets each field keep its own.
type Fields = Record<string, Codec<any>>;
type RecordOf<F extends Fields> = { [K in keyof F]: Infer<F[K]> };

/** A jute record: its fields in declaration order (as zookeeper.jute lists them). */
export function record<F extends Fields>(fields: F): Codec<RecordOf<F>> {
  const entries = Object.entries(fields) as [keyof F & string, Codec<unknown>][];
  return {
    write(w, value) {
      for (const [name, codec] of entries) codec.write(w, value[name]);
    },
    read(r) {
      const out: Record<string, unknown> = {};
      for (const [name, codec] of entries) out[name] = codec.read(r);
      return out as RecordOf<F>;
    },
  };
}

/** Encodes one value. */
export function encode<T>(codec: Codec<T>, value: T): Uint8Array {
  const w = new JuteWriter();
  codec.write(w, value);
  return w.finish();
}
