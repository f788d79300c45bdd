/**
 * Jute, ZooKeeper's serialization: big-endian int (4 bytes), long (8), boolean (1); ustring and
 * buffer as an int length then the bytes (-1 = null); vector as an int count then the elements.
 * The reader checks every length against what is left, so no input makes it read past the frame
 * or allocate more than the frame holds.
 */

/** The one error bad input raises: a frame or record that is not what the protocol allows. */
export class JuteError extends Error {
  override readonly name = 'JuteError';
}

const utf8 = new TextDecoder('utf-8');
const utf8Encoder = new TextEncoder();

/** Reads jute primitives from one frame, bounds-checked. */
export class JuteReader {
  private offset = 0;
  private readonly view: DataView;

  constructor(private readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** Bytes not yet read. */
  get remaining(): number {
    return this.bytes.byteLength - this.offset;
  }

  private need(n: number, what: string): void {
    if (n > this.remaining)
      throw new JuteError(`truncated: ${what} needs ${n} bytes, ${this.remaining} left`);
  }

  int(): number {
    this.need(4, 'int');
    const v = this.view.getInt32(this.offset);
    this.offset += 4;
    return v;
  }

  long(): bigint {
    this.need(8, 'long');
    const v = this.view.getBigInt64(this.offset);
    this.offset += 8;
    return v;
  }

  bool(): boolean {
    this.need(1, 'boolean');
    // Java's readBool takes any non-zero byte as true.
    return this.bytes[this.offset++] !== 0;
  }

  /**
   * A buffer; -1 (null) reads as an empty buffer. A view of the frame, not a copy: the connection
   * reads each frame into a buffer of its own, and the core client copies a request's data as it
   * takes it (a third copy of every setData's value before). A caller that keeps one keeps the frame.
   */
  buffer(): Uint8Array {
    const n = this.int();
    if (n === -1) return new Uint8Array(0);
    if (n < -1) throw new JuteError(`bad buffer length ${n}`);
    this.need(n, 'buffer');
    const out = this.bytes.subarray(this.offset, this.offset + n);
    this.offset += n;
    return out;
  }

  /** A buffer where -1 is ZooKeeper's null (node data), told apart from an empty one. */
  nullableBuffer(): Uint8Array | null {
    const start = this.offset;
    if (this.int() === -1) return null;
    this.offset = start;
    return this.buffer();
  }

  /** A UTF-8 string; -1 (null) reads as ''. */
  ustring(): string {
    const n = this.int();
    if (n === -1) return '';
    if (n < -1) throw new JuteError(`bad string length ${n}`);
    this.need(n, 'ustring');
    const out = utf8.decode(this.bytes.subarray(this.offset, this.offset + n));
    this.offset += n;
    return out;
  }

  /** A vector's element count; -1 (null) reads as 0. Each element takes at least one byte. */
  count(): number {
    const n = this.int();
    if (n === -1) return 0;
    if (n < -1) throw new JuteError(`bad vector length ${n}`);
    this.need(n, 'vector');
    return n;
  }
}

/** Writes jute primitives into a growing buffer. */
export class JuteWriter {
  private buf = new Uint8Array(256);
  private view = new DataView(this.buf.buffer);
  private offset = 0;

  private room(n: number): void {
    if (this.offset + n <= this.buf.byteLength) return;
    let size = this.buf.byteLength * 2;
    while (size < this.offset + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.offset));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  int(v: number): this {
    this.room(4);
    this.view.setInt32(this.offset, v);
    this.offset += 4;
    return this;
  }

  long(v: bigint): this {
    this.room(8);
    this.view.setBigInt64(this.offset, BigInt.asIntN(64, v));
    this.offset += 8;
    return this;
  }

  bool(v: boolean): this {
    this.room(1);
    this.buf[this.offset++] = v ? 1 : 0;
    return this;
  }

  bytes(v: Uint8Array): this {
    this.room(v.byteLength);
    this.buf.set(v, this.offset);
    this.offset += v.byteLength;
    return this;
  }

  buffer(v: Uint8Array): this {
    return this.int(v.byteLength).bytes(v);
  }

  /** A buffer, or -1 for null (ZooKeeper's null node data). */
  nullableBuffer(v: Uint8Array | null): this {
    return v === null ? this.int(-1) : this.buffer(v);
  }

  ustring(v: string): this {
    return this.buffer(utf8Encoder.encode(v));
  }

  /** The bytes written so far. */
  finish(): Uint8Array {
    return this.buf.slice(0, this.offset);
  }

  /** The bytes written so far behind their 4-byte length: one frame. */
  frame(): Uint8Array {
    const out = new Uint8Array(4 + this.offset);
    new DataView(out.buffer).setInt32(0, this.offset);
    out.set(this.buf.subarray(0, this.offset), 4);
    return out;
  }
}
