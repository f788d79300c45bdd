/**
 * Messages handed from one function to another inside one process (the writer's inline hand-off
 * to the distributor), with the decoded value alongside the text.
 *
 * Why: encoding a committed batch and decoding and checking it again right away, in the same
 * invocation, cost about a fifth of the embedded deployment's CPU per write. The value never
 * crossed a process, a queue or any other trust boundary: the writer built it and the
 * distributor reads it in the same call, so the receiver may take it as it is.
 *
 * The wire format is untouched: `body` is still the encoded text, computed on first read (a test's
 * crash point or tracing wrapper that reads it gets the same text as before). The value is kept
 * in a WeakMap keyed by the message object, not in a field of it: a wrapper that copies or
 * rewrites a message makes a new object, which has no value, so the receiver decodes and checks
 * its body as for any queue message and never trusts a value that no longer matches the text.
 */
import type { ReceivedMessage } from '../ports/queue.js';
import { encodeMessage } from './codec.js';

const values = new WeakMap<object, unknown>();

/**
 * A received message whose `body` is `value` encoded (on first read), and whose value
 * {@link inProcessValue} hands back without decoding.
 */
export function inProcessMessage(fields: Omit<ReceivedMessage, 'body'>, value: object): ReceivedMessage {
  let text: string | undefined;
  const message: ReceivedMessage = {
    ...fields,
    get body(): string {
      text ??= encodeMessage(value);
      return text;
    },
  };
  values.set(message, value);
  return message;
}

/**
 * The value an {@link inProcessMessage} was made with; `undefined` for any other message (one
 * that came through a queue, or a copy a wrapper made), whose body must be decoded and checked.
 */
export function inProcessValue(message: ReceivedMessage): unknown {
  return values.get(message);
}
