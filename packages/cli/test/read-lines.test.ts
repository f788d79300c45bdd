import { describe, expect, it } from 'vitest';
import { readLines, type ScriptLine } from '../src/shell/read-lines.js';

async function collect(chunks: (string | Buffer)[], maxBytes = 16): Promise<ScriptLine[]> {
  const out: ScriptLine[] = [];
  for await (const line of readLines(chunks, maxBytes)) out.push(line);
  return out;
}

describe('reading a script from stdin', () => {
  it('splits lines on \\n and \\r\\n, across chunks, keeping a last line without a newline', async () => {
    expect(await collect(['ls /\r\nget', ' /a\n\nquit'])).toEqual([
      { line: 'ls /' },
      { line: 'get /a' },
      { line: '' },
      { line: 'quit' },
    ]);
  });

  it('keeps a UTF-8 character whose bytes are split between chunks', async () => {
    const bytes = Buffer.from('set /a é\n');
    expect(await collect([bytes.subarray(0, 8), bytes.subarray(8)])).toEqual([{ line: 'set /a é' }]);
  });

  it('accepts a line of exactly the limit, and refuses one byte more once, dropping the rest of it', async () => {
    const fits = 'x'.repeat(16);
    expect(await collect([`${fits}\n`])).toEqual([{ line: fits }]);
    expect(await collect(['create /a 0123', '456789', 'abcdef', 'ghij\nls /\n'])).toEqual([
      { tooLong: 'create /a 0123456789', limit: 16 },
      { line: 'ls /' },
    ]);
  });

  it('refuses an over-long line before reading the rest of it', async () => {
    let pulled = 0;
    const seen: ScriptLine[] = [];
    async function* endless() {
      for (;;) {
        pulled++;
        yield 'x'.repeat(10);
      }
    }
    for await (const line of readLines(endless(), 16)) {
      seen.push(line);
      break;
    }
    expect(seen).toEqual([{ tooLong: 'x'.repeat(20), limit: 16 }]);
    expect(pulled).toBe(2);
  });
});
