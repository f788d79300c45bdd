import { Buffer } from 'node:buffer';

// Messages are JSON; binary fields travel as {"$b": base64}. The same codec serves every queue and
// channel adapter, so size limits are measured on what actually crosses the wire.
function replacer(_key: string, value: unknown): unknown {
  if (value instanceof Uint8Array)
    return { $b: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64') };
  return value;
}

function reviver(_key: string, value: unknown): unknown {
  if (value !== null && typeof value === 'object' && '$b' in value) {
    const b = (value as { $b: unknown }).$b;
    if (typeof b === 'string') {
      const buf = Buffer.from(b, 'base64');
      return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    }
  }
  return value;
}

/** Encodes a protocol message for a queue or channel. */
export function encodeMessage(message: unknown): string {
  return JSON.stringify(message, replacer);
}

/**
 * Decodes what {@link encodeMessage} produced.
 * @throws SyntaxError on malformed input (callers treat it as a poison message).
 */
export function decodeMessage<T = unknown>(text: string): T {
  return JSON.parse(text, reviver) as T;
}

/** UTF-8 byte length of a string, as queues and stores count it. */
export function byteLength(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}
