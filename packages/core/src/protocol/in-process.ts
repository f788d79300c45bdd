/**
 * Messages handed from one part of a deployment to another inside one process, with the value
 * alongside the text: a client's request to the writer through an in-memory queue, and the
 * writer's inline hand-off of a committed batch to the distributor, and (at the end of this file)
 * the distributor's unsealed channel messages to a client through an in-memory channel.
 *
 * Why: on the embedded deployment (and the gateway on it) everything runs in one process, and
 * encoding a message, signing it, then verifying, decoding and checking it again cost about a
 * third of the CPU of a write. The text is still there for whoever needs it: `body` is computed
 * on first read, exactly as the sender would have sent it (a request signed, a batch encoded), so
 * a cloud queue adapter, a test's crash point or a tracing wrapper that reads it sees the same
 * text as before, and the wire format is unchanged.
 *
 * The value is kept in a private field of the message's class, not in a field a copy takes
 * along: a wrapper that copies (`{ ...m }`, `Object.assign`, `structuredClone`, JSON) or rewrites a
 * message makes a new object, which has no value, so the receiver decodes and checks its body as
 * for any message and never trusts a value that no longer matches the text. Only code in this process can make such a message, and a queue only passes one on when
 * it is in memory (`MemoryQueue`): nothing that crossed a process or the network carries a value.
 */
import { encodeMessage } from './codec.js';

/** What an in-process message carries: its value, and how its text is made. */
export interface Carried {
  readonly value: object;
  /** The message's text, made on first call (the same string afterwards). */
  readonly text: () => string;
}

/** `encode` run once, its result kept. */
function once(encode: () => string): () => string {
  let text: string | undefined;
  return () => {
    text ??= encode();
    return text;
  };
}

/**
 * `fields` with a `body` that is `value` encoded by `encode` (on first read; default
 * {@link encodeMessage}), and whose value {@link inProcessValue} hands back without decoding.
 */
export function inProcessMessage<F extends object>(
  fields: F,
  value: object,
  encode: () => string = () => encodeMessage(value),
): F & { readonly body: string } {
  return carry(fields, { value, text: once(encode) });
}

/**
 * The `body` of every carried message: one getter shared by all of them. An own, enumerable
 * accessor (so that a copy — a spread, `Object.assign`, `structuredClone`, JSON — takes the text
 * along), defined with the same descriptor each time, so that V8 shares the object shape: a getter
 * made per message in an object literal (and a property added under a symbol) went through V8's
 * slow path, about a microsecond per message, two or three messages per write.
 */
const BODY: PropertyDescriptor = {
  get(this: CarriedMessage): string {
    return CarriedMessage.carried(this)!.text();
  },
  enumerable: true,
  configurable: true,
};

/**
 * A message that carries its value in a private field: no copy takes a private field along (a
 * WeakMap entry per message, tried before, cost about twice the message object itself).
 */
class CarriedMessage {
  readonly #carried: Carried;

  constructor(fields: object, carried: Carried) {
    Object.assign(this, fields);
    this.#carried = carried;
    Object.defineProperty(this, 'body', BODY);
  }

  /** What `message` carries, if it is a CarriedMessage. */
  static carried(message: object): Carried | undefined {
    return #carried in message ? (message as CarriedMessage).#carried : undefined;
  }
}

/** A copy of `fields` with the value and lazy body of `what` (a queue passing an in-process message on). */
export function carry<F extends object>(fields: F, what: Carried): F & { readonly body: string } {
  return new CarriedMessage(fields, what) as unknown as F & { readonly body: string };
}

/** What an {@link inProcessMessage} carries; `undefined` for any other message. */
export function carriedBy(message: object): Carried | undefined {
  return CarriedMessage.carried(message);
}

/**
 * The value an {@link inProcessMessage} was made with; `undefined` for any other message (one that
 * came through a cloud queue, or a copy a wrapper made), whose body must be decoded and checked.
 */
export function inProcessValue(message: object): unknown {
  return CarriedMessage.carried(message)?.value;
}

/** Room for what a sender adds to the encoded value (a request's MAC: `,"mac":"` and 43 characters). */
const ADDED_BYTES = 64;

/**
 * An upper bound on the UTF-8 bytes of `value`'s text (as {@link encodeMessage} makes it, plus a
 * MAC), without making it: a queue's size limit is checked on it, and the text is made only when
 * the bound is over the limit. Every character of a string or key counts 6 bytes (a `\u0000`
 * escape), a number 24, binary data its base64 line and its `{"$b":n}` reference.
 */
export function encodedSizeAtMost(value: unknown): number {
  return ADDED_BYTES + bound(value);
}

function bound(value: unknown): number {
  if (value === null || value === undefined) return 4;
  switch (typeof value) {
    case 'string':
      return 6 * value.length + 2;
    case 'object': {
      if (value instanceof Uint8Array) return Math.ceil(value.byteLength / 3) * 4 + 1 + 24;
      let n = 2;
      if (Array.isArray(value)) for (const v of value) n += bound(v) + 1;
      else for (const key in value) n += 6 * key.length + 4 + bound((value as Record<string, unknown>)[key]);
      return n;
    }
    default:
      // numbers and booleans; anything else cannot be encoded and fails when the text is made.
      return 24;
  }
}

/** A channel message's text and the value it was encoded from. */
export interface CarriedText {
  readonly text: string;
  readonly value: object;
}

const carriedTexts = new WeakMap<readonly string[], readonly (CarriedText | undefined)[]>();

/**
 * Registers the values of a batch of channel messages (`values[i]` for `texts[i]`, `undefined`
 * where there is none): an in-memory channel passes them on to its subscriber with the batch it
 * delivers, and {@link carriedTextValue} hands them back. Any other channel ignores them.
 */
export function carryTexts(texts: readonly string[], values: readonly (CarriedText | undefined)[]): void {
  carriedTexts.set(texts, values);
}

/** The values registered for a batch of texts by {@link carryTexts}. */
export function carriedTextsOf(texts: readonly string[]): readonly (CarriedText | undefined)[] | undefined {
  return carriedTexts.get(texts);
}

/**
 * The value channel message `texts[i]` was encoded from, if it came with one and is still the
 * same text (a wrapper that replaced it in the batch gets it decoded and checked).
 */
export function carriedTextValue(texts: readonly string[], i: number): object | undefined {
  const carried = carriedTexts.get(texts)?.[i];
  return carried !== undefined && carried.text === texts[i] ? carried.value : undefined;
}
