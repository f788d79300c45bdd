/** A line of a script on stdin, or the start of one that was too long to keep. */
export type ScriptLine = { line: string } | { tooLong: string; limit: number };

/** How much of an over-long line is kept, to name its command and path in the refusal. */
const HEAD_BYTES = 4096;
const NEWLINE = 0x0a;

/**
 * Splits a byte stream into lines (`\n` or `\r\n`), never holding more than `maxBytes` of one line:
 * a longer line is yielded as `tooLong` (with its first bytes) as soon as it passes the limit, and
 * the rest of it is read and dropped without being kept. So a 100 MB value piped into `create` is
 * refused after about 1 MiB, not after buffering (and tokenizing) all of it.
 */
export async function* readLines(
  input: AsyncIterable<Buffer | string> | Iterable<Buffer | string>,
  maxBytes: number,
): AsyncGenerator<ScriptLine> {
  let parts: Buffer[] = [];
  let size = 0;
  let skipping = false;
  const text = (bytes: Buffer) => bytes.toString('utf8').replace(/\r$/, '');
  for await (const chunk of input) {
    let bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    while (bytes.length > 0) {
      const end = bytes.indexOf(NEWLINE);
      const piece = end < 0 ? bytes : bytes.subarray(0, end);
      bytes = end < 0 ? Buffer.alloc(0) : bytes.subarray(end + 1);
      if (!skipping) {
        if (size + piece.length > maxBytes) {
          const head = Buffer.concat([...parts, piece]).subarray(0, HEAD_BYTES);
          yield { tooLong: head.toString('utf8'), limit: maxBytes };
          parts = [];
          size = 0;
          skipping = true;
        } else {
          parts.push(piece);
          size += piece.length;
        }
      }
      if (end < 0) break;
      if (!skipping) yield { line: text(Buffer.concat(parts)) };
      parts = [];
      size = 0;
      skipping = false;
    }
  }
  if (!skipping && (size > 0 || parts.length > 0)) yield { line: text(Buffer.concat(parts)) };
}
